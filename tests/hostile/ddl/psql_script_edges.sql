\restrict abcDEF123
\connect -reuse-previous=on "dbname='x;y'"
SET statement_timeout = 0;
CREATE TABLE m (id int PRIMARY KEY);
\unrestrict abcDEF123
\if :x
CREATE TABLE cond (id int PRIMARY KEY);
\endif
\i other.sql
\copy m FROM 'm.csv' CSV

CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $fn$ SELECT 'a;b' || $x$;$x$ $fn$;
CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $$ SELECT $a$ $$;
CREATE TABLE t1 (id int PRIMARY KEY, note text DEFAULT $$it's; here$$);
CREATE TABLE "t$2" (id int PRIMARY KEY, a$b int);

/* outer /* inner ; CREATE TABLE fake (x int); */ still comment; */
CREATE TABLE real_one (id int PRIMARY KEY); -- trailing ; comment
/* unterminated? no */ CREATE TABLE two (id int PRIMARY KEY /* c ; */, x text -- ;
);

CREATE TABLE e (id int PRIMARY KEY, a text DEFAULT E'it\'s ; \\', b text DEFAULT U&'d\0061t\+000061', c text CHECK (c <> E'\x3b'));
CREATE TABLE after_e (id int PRIMARY KEY);
CREATE TABLE c (id int PRIMARY KEY, t text);
COPY c (id, t) FROM stdin;
1	CREATE TABLE evil (x int);
2	\.x
3	;;;
\.
CREATE TABLE after_copy (id int PRIMARY KEY);
COPY c FROM stdin WITH (FORMAT csv);
1,"a
\.
b"
\.
CREATE TABLE after_csv (id int PRIMARY KEY);
