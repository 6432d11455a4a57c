CREATE TABLE public.orders (id bigint PRIMARY KEY, placed_at timestamptz NOT NULL);
CREATE TEMP TABLE scratch (id bigint PRIMARY KEY, note text);
CREATE GLOBAL TEMPORARY TABLE scratch2 (id bigint PRIMARY KEY);
