CREATE TABLE public.a (id bigint PRIMARY KEY, x text);
CREATE TABLE public.b (id bigint PRIMARY KEY, label text