"""Starlette under uvicorn (one process): seed parity, the seed ran uvicorn.run(app).
uvicorn uses uvloop/httptools when installed (pinned in requirements.txt, absent here)."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import asgi, database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "starlette"


def versions():
    import starlette

    out = {"starlette": launch.version_of("starlette", starlette)}
    out.update(asgi.uvicorn_versions())
    out.update(launch.optional_versions("asyncpg", "jinja2"))
    return out


def make_app():
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, PlainTextResponse, Response

    about_text = "starlette %s (uvicorn %s)" % (launch.version_of("starlette"),
                                                launch.version_of("uvicorn"))

    async def text(request):
        return PlainTextResponse(payloads.TEXT)

    async def json(request):
        return Response(payloads.json_body(), media_type="application/json")

    async def file(request):
        return FileResponse(payloads.FILE_PATH, media_type=payloads.FILE_CONTENT_TYPE)

    async def about(request):
        return PlainTextResponse(about_text)

    db = database.AsyncDb()  # asyncpg pool, made by the first request in uvicorn's loop
    templates = asgi.LazyTemplates()  # starlette's Jinja2Templates (autoescaped)

    def json_response(obj):
        return Response(payloads.dumps(obj), media_type="application/json")

    async def db_one(request):
        return json_response(await db.db())

    async def queries(request):
        return json_response(await db.queries(database.queries(
            request.query_params.get("queries"))))

    async def fortunes(request):
        return templates.get().TemplateResponse(
            "fortunes.html", {"request": request, "fortunes": await db.fortunes()})

    async def updates(request):
        return json_response(await db.updates(database.queries(
            request.query_params.get("queries"))))

    # add_route and add_exception_handler exist from the seed's 0.11 to today's releases.
    app = Starlette()
    app.add_route("/text", text, methods=["GET"])
    app.add_route("/json", json, methods=["GET"])
    app.add_route("/file", file, methods=["GET"])
    app.add_route("/about", about, methods=["GET"])
    app.add_route("/db", db_one, methods=["GET"])
    app.add_route("/queries", queries, methods=["GET"])
    app.add_route("/fortunes", fortunes, methods=["GET"])
    app.add_route("/updates", updates, methods=["GET"])
    app.add_exception_handler(database.PayloadError, asgi.database_error)
    return app


def main():
    args = launch.parse_args(NAME, versions, max_workers=1,
                             connections="uvicorn limit_concurrency")
    asgi.run_uvicorn(NAME, make_app(), args)


if __name__ == "__main__":
    main()
