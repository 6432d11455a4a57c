CREATE TABLE "" (id int);
CREATE TABLE ok (id int PRIMARY KEY);
