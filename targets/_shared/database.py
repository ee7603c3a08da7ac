# The database payloads every target serves (TechEmpower's /db, /queries, /fortunes,
# /updates): the rules they share, the two drivers' pools and the SQL, so that the
# fourteen apps differ only in what is the framework's (routing, parameters, template
# engine, responses, error hooks). Django uses its ORM instead (targets/django/wsgi.py).
# Drivers are imported on first use: a node without them still serves /text and /json.
import contextlib
import functools
import os
import random
import threading

ROWS = 10000  # World: ids 1..ROWS, random numbers 1..ROWS
MAX_QUERIES = 500
EXTRA_FORTUNE = "Additional fortune added at request time."

DSN_ENV = "MFBENCH_DB_DSN"    # set by launch.py from --db-dsn (absent: no database)
POOL_ENV = "MFBENCH_DB_POOL"  # set by launch.py from --db-pool
DEFAULT_POOL = 4
MAX_POOL = 1000

CONNECT_TIMEOUT_S = 10  # one connection attempt
ACQUIRE_TIMEOUT_S = 30  # a request waiting for a free connection of the pool
COMMAND_TIMEOUT_S = 30  # one statement (asyncpg; psycopg2 through statement_timeout)

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "templates")  # one folder per engine: jinja2, bottle, ...
SQL_FILE = os.path.join(HERE, "db", "create-postgres.sql")

TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
JSON_TYPE = "application/json"

NO_DSN_TEXT = ("no database: this server was started without --db-dsn DSN, so /db, /queries, "
               "/fortunes and /updates are unavailable\n")

# The statements, for psycopg2 (%s) and asyncpg ($1). The updates write back in ONE
# statement, the rows as two arrays sorted by id. PostgreSQL locks rows in the order its
# join meets them, which for the plans it makes here is the arrays' order (EXPLAIN: a
# hash join probed by the arrays for many rows, an index nested loop over them for a
# few): sorted, two concurrent batches take their common rows in the same order and
# cannot deadlock. (A VALUES list instead gets a hash join probed by world's heap.)
PG_WORLD = "SELECT id, randomnumber FROM world WHERE id = %s"
PG_FORTUNES = "SELECT id, message FROM fortune"
PG_UPDATE = ("UPDATE world SET randomnumber = v.randomnumber "
             "FROM unnest(%s::integer[], %s::integer[]) AS v (id, randomnumber) "
             "WHERE world.id = v.id")
APG_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
APG_FORTUNES = PG_FORTUNES
APG_UPDATE = ("UPDATE world SET randomnumber = v.randomnumber "
              "FROM unnest($1::integer[], $2::integer[]) AS v (id, randomnumber) "
              "WHERE world.id = v.id")


class PayloadError(Exception):
    """A database payload that cannot be served: status and text/plain body."""
    status = 500

    def __init__(self, text):
        super().__init__(text)
        self.text = text


class NotConfigured(PayloadError):
    """No --db-dsn: 503, naming the flag."""
    status = 503

    def __init__(self):
        super().__init__(NO_DSN_TEXT)


class DatabaseError(PayloadError):
    """The driver failed (connect, query, timeout): 500 with the driver's message."""

    def __init__(self, cause):
        msg = str(cause).strip() or type(cause).__name__
        super().__init__("database error: %s\n" % msg)


def dsn():
    """The DSN the server was started with, or None."""
    return os.environ.get(DSN_ENV) or None


def pool_size():
    try:
        n = int(os.environ.get(POOL_ENV, DEFAULT_POOL))
    except ValueError:
        n = DEFAULT_POOL
    return min(max(n, 1), MAX_POOL)


def check_dsn(value):
    """None if value reads as a libpq DSN (URI or key=value), else why not. Needs
    psycopg2 to judge; without it every non-empty value passes (the driver judges)."""
    if not value.strip():
        return "empty"
    try:
        from psycopg2.extensions import parse_dsn
    except ImportError:
        return None
    try:
        parse_dsn(value)
    except Exception as e:  # psycopg2.ProgrammingError: invalid dsn: ...
        return str(e).strip()
    return None


def queries(value):
    """TechEmpower's `queries` parameter: an integer clamped to 1..500; missing or not
    an integer is 1."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(n, 1), MAX_QUERIES)


def random_id():
    return random.randint(1, ROWS)


def random_ids(n):
    """n distinct ids: an update request then changes exactly n rows."""
    return random.sample(range(1, ROWS + 1), n)


def new_number(old):
    """A random number in 1..ROWS other than old (uniform), so an update always writes."""
    n = random.randint(1, ROWS - 1)
    return n + 1 if n >= old else n


def world(row_id, number):
    return {"id": row_id, "randomNumber": number}


def sort_fortunes(rows, extra, message=lambda r: r[1]):
    """rows plus the fortune added at request time (extra, made by the caller), sorted
    by message (Python's order: by code point)."""
    out = list(rows)
    out.append(extra)
    out.sort(key=message)
    return out


@functools.lru_cache(maxsize=None)
def jinja2_template():
    """The fortunes page as a jinja2 Template, autoescaped (the jinja2 targets without a
    framework integration of their own). Loaded on first use and kept: a node without
    jinja2 still serves the other payloads."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(TEMPLATES, "jinja2")),
                             autoescape=True)
    return env.get_template("fortunes.html")


def libpq_timeouts(given):
    """libpq settings for the connect and statement timeouts, those the DSN (given, as
    parsed) does not set itself."""
    kw = {}
    if "connect_timeout" not in given:
        kw["connect_timeout"] = CONNECT_TIMEOUT_S
    if "options" not in given:
        kw["options"] = "-c statement_timeout=%d" % (COMMAND_TIMEOUT_S * 1000)
    return kw


# ---- psycopg2: the sync frameworks ----------------------------------------------------

class SyncDb:
    """A psycopg2 ThreadedConnectionPool of exactly pool_size() connections, opened on
    the first database request (the server starts when the database is down), behind a
    semaphore: a burst beyond the pool waits for a connection instead of failing with
    'connection pool exhausted'. Thread-safe; one per process."""

    def __init__(self):
        self.dsn = dsn()
        self.size = pool_size()
        self._sem = threading.BoundedSemaphore(self.size)
        self._lock = threading.Lock()
        self._pool = None

    def _get_pool(self):
        with self._lock:
            if self._pool is None:
                from psycopg2.extensions import parse_dsn
                from psycopg2.pool import ThreadedConnectionPool

                kw = libpq_timeouts(parse_dsn(self.dsn))
                self._pool = ThreadedConnectionPool(self.size, self.size, self.dsn, **kw)
            return self._pool

    @contextlib.contextmanager
    def cursor(self):
        """A cursor on a pooled connection in autocommit mode (each statement its own
        transaction); driver errors leave as DatabaseError."""
        if self.dsn is None:
            raise NotConfigured()
        import psycopg2

        if not self._sem.acquire(timeout=ACQUIRE_TIMEOUT_S):
            raise PayloadError("database error: no free connection in the pool of %d "
                               "within %d s\n" % (self.size, ACQUIRE_TIMEOUT_S))
        try:
            try:
                pool = self._get_pool()
                conn = pool.getconn()
            except psycopg2.Error as e:
                raise DatabaseError(e) from e
            try:
                if not conn.autocommit:
                    conn.autocommit = True
                with conn.cursor() as cur:
                    yield cur
            except psycopg2.Error as e:
                raise DatabaseError(e) from e
            finally:
                pool.putconn(conn, close=bool(conn.closed))  # a lost one is replaced
        finally:
            self._sem.release()

    @staticmethod
    def _read(cur, row_id):
        cur.execute(PG_WORLD, (row_id,))
        row = cur.fetchone()
        if row is None:
            raise PayloadError("database error: world has no row %d\n" % row_id)
        return row

    def db(self):
        with self.cursor() as cur:
            return world(*self._read(cur, random_id()))

    def queries(self, n):
        with self.cursor() as cur:
            return [world(*self._read(cur, i)) for i in random_ids(n)]

    def fortunes(self):
        """Every fortune plus the runtime one, sorted: (id, message) tuples."""
        with self.cursor() as cur:
            cur.execute(PG_FORTUNES)
            return sort_fortunes(cur.fetchall(), (0, EXTRA_FORTUNE))

    def updates(self, n):
        with self.cursor() as cur:
            rows = [(i, new_number(old)) for i, old in (self._read(cur, i)
                                                        for i in random_ids(n))]
            batch = sorted(rows)
            cur.execute(PG_UPDATE, ([r[0] for r in batch], [r[1] for r in batch]))
        return [world(i, number) for i, number in rows]


# ---- asyncpg: the async frameworks and tornado ----------------------------------------

class AsyncDb:
    """An asyncpg pool of exactly pool_size() connections, created by the first database
    request in the server's event loop (the server starts when the database is down; a
    failed creation is retried by the next request). pool.acquire waits for a free
    connection, so a burst queues. One per process and event loop."""

    def __init__(self):
        self.dsn = dsn()
        self.size = pool_size()
        self._pool = None
        self._lock = None

    async def _get_pool(self):
        if self._pool is None:
            import asyncio

            import asyncpg

            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self.dsn, min_size=self.size, max_size=self.size,
                        timeout=CONNECT_TIMEOUT_S, command_timeout=COMMAND_TIMEOUT_S)
        return self._pool

    @contextlib.asynccontextmanager
    async def connection(self):
        if self.dsn is None:
            raise NotConfigured()
        import asyncio

        import asyncpg

        try:
            pool = await self._get_pool()
            async with pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as conn:
                yield conn
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError,
                asyncio.TimeoutError) as e:  # OSError: refused, unreachable
            raise DatabaseError(e) from e

    @staticmethod
    async def _read(conn, row_id):
        row = await conn.fetchrow(APG_WORLD, row_id)
        if row is None:
            raise PayloadError("database error: world has no row %d\n" % row_id)
        return row[0], row[1]

    async def db(self):
        async with self.connection() as conn:
            return world(*await self._read(conn, random_id()))

    async def queries(self, n):
        async with self.connection() as conn:
            return [world(*await self._read(conn, i)) for i in random_ids(n)]

    async def fortunes(self):
        async with self.connection() as conn:
            rows = await conn.fetch(APG_FORTUNES)
        return sort_fortunes([(r[0], r[1]) for r in rows], (0, EXTRA_FORTUNE))

    async def updates(self, n):
        async with self.connection() as conn:
            rows = []
            for i in random_ids(n):
                row_id, old = await self._read(conn, i)
                rows.append((row_id, new_number(old)))
            batch = sorted(rows)
            await conn.execute(APG_UPDATE, [r[0] for r in batch], [r[1] for r in batch])
        return [world(i, number) for i, number in rows]
