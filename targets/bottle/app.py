"""Bottle under its default server, wsgiref (bottle.run): seed parity, the seed ran run()."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "bottle"


def versions():
    import bottle

    out = {"bottle": launch.version_of("bottle", bottle)}
    out.update(launch.optional_versions("psycopg2"))
    return out


def make_app():
    import bottle

    app = bottle.Bottle()
    db = database.SyncDb()  # psycopg2 pool (wsgiref serves one request at a time)

    @app.route("/text")
    def text():
        bottle.response.content_type = "text/plain"
        return payloads.TEXT

    @app.route("/json")
    def json():
        bottle.response.content_type = "application/json"
        return payloads.json_body()

    @app.route("/file")
    def file():
        return bottle.static_file(payloads.FILE_NAME, root=payloads.STATIC_DIR,
                                  mimetype=payloads.FILE_CONTENT_TYPE)

    @app.route("/about")
    def about():
        bottle.response.content_type = "text/plain"
        return "bottle %s (wsgiref)" % bottle.__version__

    def db_errors(callback):  # a bottle plugin for the database routes
        def wrapper(*a, **kw):
            try:
                return callback(*a, **kw)
            except database.PayloadError as e:  # 503 without --db-dsn, 500 driver's message
                return bottle.HTTPResponse(e.text, status=e.status,
                                           headers={"Content-Type": database.TEXT_TYPE})
        return wrapper

    templates = [os.path.join(database.TEMPLATES, "bottle")]

    @app.route("/db", apply=[db_errors])
    def db_one():
        bottle.response.content_type = "application/json"
        return payloads.dumps(db.db())

    @app.route("/queries", apply=[db_errors])
    def queries():
        bottle.response.content_type = "application/json"
        return payloads.dumps(db.queries(database.queries(bottle.request.query.get("queries"))))

    @app.route("/fortunes", apply=[db_errors])
    def fortunes():
        # SimpleTemplate's {{...}} escapes HTML.
        bottle.response.content_type = database.HTML_TYPE
        return bottle.template("fortunes", template_lookup=templates, fortunes=db.fortunes())

    @app.route("/updates", apply=[db_errors])
    def updates():
        bottle.response.content_type = "application/json"
        return payloads.dumps(db.updates(database.queries(bottle.request.query.get("queries"))))

    return app


def main():
    args = launch.parse_args(NAME, versions, max_workers=1)
    import bottle
    from wsgiref.simple_server import WSGIServer

    class BigBacklogServer(WSGIServer):
        request_queue_size = launch.BACKLOG  # socketserver's default is 5

    launch.log(NAME, "bottle %s, wsgiref server on %s"
               % (bottle.__version__, launch.bind_address(args.host, args.port)))
    # quiet=True drops bottle's banner and wsgiref's per-request log line.
    bottle.run(make_app(), server="wsgiref", host=args.host, port=args.port, quiet=True,
               server_class=BigBacklogServer)


if __name__ == "__main__":
    main()
