# Runs an ASGI app under uvicorn for the starlette and fastapi targets: one process,
# no access log, the large backlog when this uvicorn accepts it, and --connections
# as uvicorn's limit_concurrency.
from . import launch


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
