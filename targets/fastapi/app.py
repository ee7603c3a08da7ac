"""FastAPI under uvicorn (one process), as FastAPI documents and as the seed ran
Starlette. uvicorn uses uvloop/httptools when installed (absent here)."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import asgi, database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "fastapi"


def versions():
    import fastapi
    import starlette

    out = {"fastapi": launch.version_of("fastapi", fastapi)}
    out.update(asgi.uvicorn_versions())
    out["starlette"] = launch.version_of("starlette", starlette)
    out.update(launch.optional_versions("asyncpg", "jinja2"))
    return out


def make_app():
    from fastapi import FastAPI, Request
    from fastapi.responses import FileResponse, PlainTextResponse, Response

    about_text = "fastapi %s (uvicorn %s)" % (launch.version_of("fastapi"),
                                              launch.version_of("uvicorn"))
    # No OpenAPI/docs routes: only the four measured routes exist.
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/text", response_class=PlainTextResponse)
    async def text():
        return PlainTextResponse(payloads.TEXT)

    @app.get("/json")
    async def json():
        # Returning the dict would go through jsonable_encoder and json.dumps with
        # spaces; the body must be the seed's ujson bytes.
        return Response(payloads.json_body(), media_type="application/json")

    @app.get("/file")
    async def file():
        return FileResponse(payloads.FILE_PATH, media_type=payloads.FILE_CONTENT_TYPE)

    @app.get("/about", response_class=PlainTextResponse)
    async def about():
        return PlainTextResponse(about_text)

    db = database.AsyncDb()  # asyncpg pool, made by the first request in uvicorn's loop
    templates = asgi.LazyTemplates()  # fastapi.templating's Jinja2Templates (autoescaped)

    # Responses built here for the same reason as /json: the ujson bytes, no validation.
    # `queries` is a str, not an int: a non-number must give 1 row, not a 422.
    @app.get("/db")
    async def db_one():
        return Response(payloads.dumps(await db.db()), media_type="application/json")

    @app.get("/queries")
    async def queries(queries: str = None):
        rows = await db.queries(database.queries(queries))
        return Response(payloads.dumps(rows), media_type="application/json")

    @app.get("/fortunes")
    async def fortunes(request: Request):
        return templates.get().TemplateResponse(
            "fortunes.html", {"request": request, "fortunes": await db.fortunes()})

    @app.get("/updates")
    async def updates(queries: str = None):
        rows = await db.updates(database.queries(queries))
        return Response(payloads.dumps(rows), media_type="application/json")

    app.add_exception_handler(database.PayloadError, asgi.database_error)
    return app


def main():
    args = launch.parse_args(NAME, versions, max_workers=1,
                             connections="uvicorn limit_concurrency")
    asgi.run_uvicorn(NAME, make_app(), args)


if __name__ == "__main__":
    main()
