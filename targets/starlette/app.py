"""Starlette under uvicorn (one process): seed parity, the seed ran uvicorn.run(app).
uvicorn uses uvloop/httptools when installed (pinned in requirements.txt, absent here)."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import asgi, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "starlette"


def versions():
    import starlette

    out = {"starlette": launch.version_of("starlette", starlette)}
    out.update(asgi.uvicorn_versions())
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

    # add_route exists from the seed's 0.11 to today's releases.
    app = Starlette()
    app.add_route("/text", text, methods=["GET"])
    app.add_route("/json", json, methods=["GET"])
    app.add_route("/file", file, methods=["GET"])
    app.add_route("/about", about, methods=["GET"])
    return app


def main():
    args = launch.parse_args(NAME, versions, max_workers=1,
                             connections="uvicorn limit_concurrency")
    asgi.run_uvicorn(NAME, make_app(), args)


if __name__ == "__main__":
    main()
