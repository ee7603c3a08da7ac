"""aiohttp under its own server (web.run_app): seed parity."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "aiohttp"


def versions():
    import aiohttp

    return {"aiohttp": launch.version_of("aiohttp", aiohttp)}


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

    app = web.Application()
    app.router.add_get("/text", text)
    app.router.add_get("/json", json)
    app.router.add_get("/file", file)
    app.router.add_get("/about", about)
    return app


def main():
    args = launch.parse_args(NAME, versions, max_workers=1)
    from aiohttp import web

    # access_log=None: no per-request log; the startup line goes to stderr.
    web.run_app(make_app(), host=args.host, port=args.port, backlog=launch.BACKLOG,
                access_log=None, print=lambda msg: launch.log(NAME, msg))


if __name__ == "__main__":
    main()
