CREATE TABLE "items{sets}" (id bigint PRIMARY KEY, "{sets}" text, "x{0}" text);
