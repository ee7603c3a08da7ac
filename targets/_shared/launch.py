# Command line shared by every targets/<name>/app.py: --host/--port/--workers, the
# database of the db/queries/fortunes/updates payloads (--db-dsn, --db-pool, passed on
# to the app as MFBENCH_DB_DSN and MFBENCH_DB_POOL), the --versions probe the node runs
# before a cell, and the exec into gunicorn.
# Contract with the C launcher: DESIGN.md "Targets"; tests/targets/test_targets.py checks it.
import argparse
import importlib.metadata
import inspect
import json
import os
import platform
import sys

from . import database, payloads

BACKLOG = 2048  # listen(2) backlog wherever the server lets us set it

EXIT_USAGE = 2
EXIT_MISSING = 3  # an import failed: the stack is not provisioned on this node


def log(name, msg):
    """Startup/error lines go to stderr; stdout stays free for --versions."""
    sys.stderr.write("%s: %s\n" % (name, msg))
    sys.stderr.flush()


def version_of(dist, module=None):
    """The installed version of a distribution, else the module's __version__."""
    try:
        return importlib.metadata.version(dist)
    except Exception:
        pass
    v = getattr(module, "__version__", None) if module is not None else None
    return str(v) if v is not None else None


def optional_versions(*dists):
    """Versions of optional speedups (uvloop, httptools) that change what is measured,
    and of the database payloads' driver and template engine (their absence fails only
    those payloads)."""
    out = {}
    for d in dists:
        try:
            mod = __import__(d)
        except ImportError:
            continue
        out[d] = version_of(d, mod)
    return out


def _probe(name, probe):
    """Run probe() (it imports the stack and returns {dist: version}); exit 3 on failure."""
    try:
        found = probe()
    except Exception as e:  # ImportError mostly, but a broken install raises anything
        sys.stderr.write("%s: %s\n" % (name, e))
        sys.stderr.flush()
        sys.exit(EXIT_MISSING)
    out = {"python": platform.python_version()}
    out.update(found)
    out["ujson"] = payloads.ujson_version()
    return out


def parse_args(name, probe, max_workers=None, connections=None):
    """Parse the command line. Handles --versions (prints one JSON line, exits 0)
    and checks the imports before serving. max_workers=1 means a single-process
    server: --workers N>1 is refused rather than silently ignored. connections
    names the server's setting that --connections N sets (the matrix's
    limits.connections.value, e.g. "waitress connection_limit"); a target whose
    server has none refuses --connections. Without it the server keeps its
    default."""
    ap = argparse.ArgumentParser(prog="%s/app.py" % name)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--connections", type=int, default=None)
    ap.add_argument("--db-dsn", metavar="DSN", default=None,
                    help="PostgreSQL of the database payloads (libpq URI or key=value); "
                    "without it they answer 503")
    ap.add_argument("--db-pool", metavar="N", type=int, default=database.DEFAULT_POOL,
                    help="database connections per server process (default %d, 1..%d)"
                    % (database.DEFAULT_POOL, database.MAX_POOL))
    ap.add_argument("--versions", action="store_true")
    args = ap.parse_args()
    versions = _probe(name, probe)
    if args.versions:
        sys.stdout.write(json.dumps(versions, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        sys.exit(0)
    if not 0 < args.port < 65536:
        ap.error("--port must be 1..65535")
    if args.workers < 1 or (max_workers is not None and args.workers > max_workers):
        ap.error("--workers must be 1..%s for %s" % (max_workers or "N", name))
    if args.connections is not None:
        if connections is None:
            ap.error("--connections: %s's server has no connection cap to set" % name)
        if args.connections < 1:
            ap.error("--connections must be >= 1")
        log(name, "%s %d" % (connections, args.connections))
    if not 1 <= args.db_pool <= database.MAX_POOL:
        ap.error("--db-pool must be 1..%d, got %d" % (database.MAX_POOL, args.db_pool))
    # The command line is the only source: an inherited MFBENCH_DB_DSN does not count.
    # The environment carries both to the app, also across the exec into gunicorn.
    if args.db_dsn is not None:
        why = database.check_dsn(args.db_dsn)
        if why:
            ap.error("--db-dsn: %s" % why)
        os.environ[database.DSN_ENV] = args.db_dsn
        log(name, "database payloads: pool of %d connection(s) per process, "
            "connected on the first database request" % args.db_pool)
    else:
        os.environ.pop(database.DSN_ENV, None)
    os.environ[database.POOL_ENV] = str(args.db_pool)
    return args


def kwargs_for(func, name, **kw):
    """Keep only the keyword arguments func accepts (old pinned releases lack some,
    e.g. uvicorn's backlog) and say on stderr which were dropped."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return kw
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return kw
    dropped = [k for k in kw if k not in params]
    if dropped:
        log(name, "this version does not accept %s; using its defaults" % ", ".join(dropped))
    return {k: v for k, v in kw.items() if k in params}


def bind_address(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def exec_gunicorn(args, app_dir, app_spec, extra=()):
    """Replace this process with `python -m gunicorn` (same interpreter, same pid,
    workers in the same process group). Gunicorn has no access log unless asked."""
    argv = [
        sys.executable, "-m", "gunicorn",
        "--chdir", os.path.abspath(app_dir),
        "--workers", str(args.workers),
        "--bind", bind_address(args.host, args.port),
        "--backlog", str(BACKLOG),
        "--error-logfile", "-",
        "--log-level", "info",
        *extra,
        app_spec,
    ]
    sys.stderr.flush()
    os.execv(sys.executable, argv)
