"""Japronto under its own server (app.run, uvloop): seed parity. Not installable on the
test host (no PyPI, no wheels for current Pythons): --versions then fails with
`japronto: No module named 'japronto'`, exit 3.
Limits of japronto 0.1.2: the listen backlog is asyncio's default (100), not settable
through app.run; every Content-Type gets `; charset=utf-8` appended (so /json and /file
carry it too); there is no file response, so /file sends the file's bytes as the body."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "japronto"


def versions():
    import japronto

    out = {"japronto": launch.version_of("japronto", japronto)}
    out.update(launch.optional_versions("uvloop", "asyncpg", "jinja2"))
    return out


def make_app():
    from japronto import Application

    about_text = "japronto %s (japronto server)" % launch.version_of("japronto")

    def text(request):
        return request.Response(text=payloads.TEXT, mime_type="text/plain")

    def json(request):
        return request.Response(body=payloads.json_body(), mime_type="application/json")

    def file(request):
        with open(payloads.FILE_PATH, "rb") as f:
            data = f.read()
        return request.Response(body=data, mime_type=payloads.FILE_CONTENT_TYPE)

    def about(request):
        return request.Response(text=about_text, mime_type="text/plain")

    # The database payloads: coroutine handlers (japronto awaits them) on an asyncpg pool
    # made by the first request in each worker's loop (AsyncDb connects nothing before).
    db = database.AsyncDb()

    def database_route(handler):
        """503 without --db-dsn, 500 with the driver's message."""
        async def wrapper(request):
            try:
                return await handler(request)
            except database.PayloadError as e:
                return request.Response(code=e.status, text=e.text, mime_type="text/plain")
        return wrapper

    def queries_of(request):
        return database.queries(request.query.get("queries"))

    @database_route
    async def db_one(request):
        return request.Response(text=payloads.dumps(await db.db()),
                                mime_type="application/json")

    @database_route
    async def queries(request):
        return request.Response(text=payloads.dumps(await db.queries(queries_of(request))),
                                mime_type="application/json")

    @database_route
    async def fortunes(request):
        page = database.jinja2_template().render(fortunes=await db.fortunes())  # autoescaped
        return request.Response(text=page, mime_type="text/html")

    @database_route
    async def updates(request):
        return request.Response(text=payloads.dumps(await db.updates(queries_of(request))),
                                mime_type="application/json")

    app = Application()  # log_request defaults to False: no access log
    for path, handler in (("/text", text), ("/json", json), ("/file", file), ("/about", about),
                          ("/db", db_one), ("/queries", queries), ("/fortunes", fortunes),
                          ("/updates", updates)):
        app.router.add_route(path, handler, method="GET")
    return app


def main():
    args = launch.parse_args(NAME, versions)
    launch.log(NAME, "japronto server on %s, %d worker(s), backlog 100 (fixed)"
               % (launch.bind_address(args.host, args.port), args.workers))
    make_app().run(args.host, args.port, worker_num=args.workers)


if __name__ == "__main__":
    main()
