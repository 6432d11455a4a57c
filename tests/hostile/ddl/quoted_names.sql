
CREATE SCHEMA "my schema";
CREATE SCHEMA "a.b";
CREATE TABLE "my schema"."my table" ("my id" int PRIMARY KEY, "col""q" text, "日本語" text);
CREATE TABLE "a.b"."c.d" (id int PRIMARY KEY, "x.y" int REFERENCES "my schema"."my table");
CREATE TABLE public.users (id int PRIMARY KEY);
CREATE TABLE "my schema".users (id int PRIMARY KEY, u int REFERENCES public.users);
CREATE TABLE "select" ("from" int PRIMARY KEY, "where" text, "order" int);
CREATE INDEX ON "select" ("where", "order");
CREATE TABLE "User" (id int PRIMARY KEY);
CREATE TABLE "user" (id int PRIMARY KEY);
CREATE TABLE "" (id int);
