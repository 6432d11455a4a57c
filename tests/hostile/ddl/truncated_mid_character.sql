CREATE TABLE public.a (id bigint PRIMARY KEY, x text);
COMMENT ON TABLE public.a IS 'caf√