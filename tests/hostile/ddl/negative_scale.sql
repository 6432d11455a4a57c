-- from PostgreSQL's regression suite (src/test/regress/sql/numeric.sql): PostgreSQL 15
-- accepts a negative scale and a scale above the precision
CREATE TABLE num_typemod_test (
  id bigint PRIMARY KEY,
  millions numeric(3, -6),
  thousands numeric(3, -3),
  units numeric(3, 0),
  thousandths numeric(3, 3),
  millionths numeric(3, 6)
);
