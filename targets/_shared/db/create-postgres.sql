-- The tables of the database payloads (db, queries, fortunes, updates): TechEmpower's
-- World and Fortune (toolset/databases/postgres/create-postgres.sql), with unquoted,
-- lower-case names only. Idempotent: drops and reloads both tables in one transaction.
-- Load it into a UTF8 database: psql -v ON_ERROR_STOP=1 -d hello_world -f create-postgres.sql
SET client_encoding = 'UTF8';

-- The fortunes hold non-ASCII text (a Japanese row, em dashes): another server encoding
-- would mangle or refuse them, so say so before loading anything.
DO $$
BEGIN
  IF current_setting('server_encoding') <> 'UTF8' THEN
    RAISE EXCEPTION 'create-postgres.sql: database "%" has encoding %, the fortunes need UTF8',
      current_database(), current_setting('server_encoding')
      USING HINT = 'CREATE DATABASE ' || quote_ident(current_database())
                   || ' ENCODING ''UTF8'' TEMPLATE template0';
  END IF;
END
$$;

BEGIN;

DROP TABLE IF EXISTS world;
DROP TABLE IF EXISTS fortune;

CREATE TABLE world (
  id integer NOT NULL,
  randomnumber integer NOT NULL DEFAULT 0,
  PRIMARY KEY (id)
);

INSERT INTO world (id, randomnumber)
SELECT x.id, least(floor(random() * 10000 + 1), 10000)
FROM generate_series(1, 10000) AS x(id);

CREATE TABLE fortune (
  id integer NOT NULL,
  message varchar(2048) NOT NULL,
  PRIMARY KEY (id)
);

INSERT INTO fortune (id, message) VALUES
  (1, 'fortune: No such file or directory'),
  (2, 'A computer scientist is someone who fixes things that aren''t broken.'),
  (3, 'After enough decimal places, nobody gives a damn.'),
  (4, 'A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1'),
  (5, 'A computer program does what you tell it to do, not what you want it to do.'),
  (6, 'Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen'),
  (7, 'Any program that runs right is obsolete.'),
  (8, 'A list is only as strong as its weakest link. — Donald Knuth'),
  (9, 'Feature: A bug with seniority.'),
  (10, 'Computers make very fast, very accurate mistakes.'),
  (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
  (12, 'フレームワークのベンチマーク');

COMMIT;

-- Fresh statistics: the planner's choice for the updates' batch statement depends on them.
ANALYZE world;
ANALYZE fortune;
