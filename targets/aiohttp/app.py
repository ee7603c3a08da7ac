"""aiohttp under its own server (web.run_app): seed parity."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "aiohttp"


def versions():
    import aiohttp

    out = {"aiohttp": launch.version_of("aiohttp", aiohttp)}
    out.update(launch.optional_versions("asyncpg", "jinja2"))
    return out


def make_app():
    import aiohttp
    from aiohttp import web

    about_text = "aiohttp %s (aiohttp.web server)" % aiohttp.__version__

    async def text(request):
        return web.Response(body=payloads.TEXT_BYTES, content_type="text/plain")

    async def json(request):
        return web.Response(body=payloads.json_body(), content_type="application/json")

    async def file(request):
        return web.FileResponse(payloads.FILE_PATH,
                                headers={"Content-Type": payloads.FILE_CONTENT_TYPE})

    async def about(request):
        return web.Response(text=about_text, content_type="text/plain")

    db = database.AsyncDb()  # asyncpg pool, made by the first request in the server's loop

    def database_route(handler):
        """503 without --db-dsn, 500 with the driver's message (a decorator, not a
        middleware: the other routes keep their cost)."""
        async def wrapper(request):
            try:
                return await handler(request)
            except database.PayloadError as e:
                return web.Response(status=e.status, text=e.text, content_type="text/plain",
                                    charset="utf-8")
        return wrapper

    def json_response(obj):
        return web.json_response(obj, dumps=payloads.dumps)

    @database_route
    async def db_one(request):
        return json_response(await db.db())

    @database_route
    async def queries(request):
        return json_response(await db.queries(database.queries(request.query.get("queries"))))

    @database_route
    async def fortunes(request):
        page = database.jinja2_template().render(fortunes=await db.fortunes())  # autoescaped
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    @database_route
    async def updates(request):
        return json_response(await db.updates(database.queries(request.query.get("queries"))))

    app = web.Application()
    app.router.add_get("/text", text)
    app.router.add_get("/json", json)
    app.router.add_get("/file", file)
    app.router.add_get("/about", about)
    app.router.add_get("/db", db_one)
    app.router.add_get("/queries", queries)
    app.router.add_get("/fortunes", fortunes)
    app.router.add_get("/updates", updates)
    return app


def main():
    args = launch.parse_args(NAME, versions, max_workers=1)
    from aiohttp import web

    # access_log=None: no per-request log; the startup line goes to stderr.
    web.run_app(make_app(), host=args.host, port=args.port, backlog=launch.BACKLOG,
                access_log=None, print=lambda msg: launch.log(NAME, msg))


if __name__ == "__main__":
    main()
