"""Sanic under its own server (app.run) in ONE process: seed parity. Sanic >= 22.9
starts worker processes that re-import the app by name (and exit with "Sanic app name
'mfbench_sanic' not found" when it is made inside main()); single_process=True keeps it
the one process the node measures, as the seed's sanic 18.12 was. Pinned to 23.12.2
(requirements.txt), the newest whose dependencies Debian 12 satisfies. Not installed on
the test host (no PyPI): --versions then fails with `sanic: No module named 'sanic'`,
exit 3; matrix.yaml's with_pip says first which wheels are missing."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "sanic"


def versions():
    import sanic

    out = {"sanic": launch.version_of("sanic", sanic)}
    out.update(launch.optional_versions("uvloop", "httptools", "asyncpg", "jinja2"))
    return out


def make_app():
    from sanic import Sanic, response

    about_text = "sanic %s (sanic server)" % launch.version_of("sanic")
    app = Sanic("mfbench_sanic")

    @app.route("/text", methods=["GET"])
    async def text(request):
        return response.text(payloads.TEXT, content_type="text/plain")

    @app.route("/json", methods=["GET"])
    async def json(request):
        # response.json serializes on every request, as the seed did; dumps pins the bytes.
        return response.json(payloads.JSON_DATA, dumps=payloads.dumps)

    @app.route("/file", methods=["GET"])
    async def file(request):
        return await response.file(payloads.FILE_PATH, mime_type=payloads.FILE_CONTENT_TYPE)

    @app.route("/about", methods=["GET"])
    async def about(request):
        return response.text(about_text, content_type="text/plain")

    db = database.AsyncDb()  # asyncpg pool, made by the first request in sanic's loop

    @app.route("/db", methods=["GET"])
    async def db_one(request):
        return response.json(await db.db(), dumps=payloads.dumps)

    @app.route("/queries", methods=["GET"])
    async def queries(request):
        rows = await db.queries(database.queries(request.args.get("queries")))
        return response.json(rows, dumps=payloads.dumps)

    @app.route("/fortunes", methods=["GET"])
    async def fortunes(request):
        # jinja2, autoescaped; response.html says text/html; charset=utf-8.
        return response.html(database.jinja2_template().render(fortunes=await db.fortunes()))

    @app.route("/updates", methods=["GET"])
    async def updates(request):
        rows = await db.updates(database.queries(request.args.get("queries")))
        return response.json(rows, dumps=payloads.dumps)

    @app.exception(database.PayloadError)
    async def database_error(request, exception):  # 503 without --db-dsn, 500 the driver's
        return response.text(exception.text, status=exception.status,
                             content_type=database.TEXT_TYPE)

    return app


def main():
    args = launch.parse_args(NAME, versions, max_workers=1)
    app = make_app()
    # single_process: no worker processes (sanic < 22.9 has no such argument and
    # kwargs_for drops it, saying so); motd off: one startup line is enough.
    kw = launch.kwargs_for(app.run, NAME, host=args.host, port=args.port, workers=args.workers,
                           backlog=launch.BACKLOG, access_log=False, debug=False,
                           single_process=True, motd=False)
    app.run(**kw)


if __name__ == "__main__":
    main()
