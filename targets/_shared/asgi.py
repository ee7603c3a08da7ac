# Runs an ASGI app under uvicorn for the starlette and fastapi targets: one process,
# no access log, the large backlog when this uvicorn accepts it, and --connections
# as uvicorn's limit_concurrency. Also what both share for the database payloads.
import os

from . import database, launch


def run_uvicorn(name, app, args):
    import uvicorn

    extra = {}
    if args.connections is not None:  # the matrix's limits.connections.value
        extra["limit_concurrency"] = args.connections
    kw = launch.kwargs_for(uvicorn.Config.__init__, name, host=args.host, port=args.port,
                           backlog=launch.BACKLOG, access_log=False, log_level="info",
                           lifespan="off", **extra)
    uvicorn.Server(uvicorn.Config(app, **kw)).run()


def uvicorn_versions():
    import uvicorn

    out = {"uvicorn": launch.version_of("uvicorn", uvicorn)}
    out.update(launch.optional_versions("uvloop", "httptools"))
    return out


class LazyTemplates:
    """starlette.templating.Jinja2Templates (fastapi's is the same class) over the jinja2
    fortunes template, made on first use: without jinja2 only /fortunes fails."""

    def __init__(self):
        self._templates = None

    def get(self):
        if self._templates is None:
            from starlette.templating import Jinja2Templates

            templates = Jinja2Templates(directory=os.path.join(database.TEMPLATES, "jinja2"))
            templates.env.autoescape = True  # the default of every release; said, not assumed
            self._templates = templates
        return self._templates


async def database_error(request, exc):
    """The exception handler of database.PayloadError: 503 without --db-dsn, 500 with
    the driver's message."""
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(exc.text, status_code=exc.status)
