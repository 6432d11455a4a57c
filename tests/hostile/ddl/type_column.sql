-- init used to keep `_type` as the attribute name, and the model then failed to compile
CREATE TABLE public.events (
    id bigint PRIMARY KEY,
    _type text NOT NULL,
    _version integer NOT NULL,
    "PK" text,
    payload jsonb
);
