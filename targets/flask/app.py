"""Flask under the Werkzeug development server (app.run): seed parity, the seed ran app.run()."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "flask"


def versions():
    import flask
    import werkzeug

    out = {"flask": launch.version_of("flask", flask),
           "werkzeug": launch.version_of("werkzeug", werkzeug)}
    out.update(launch.optional_versions("psycopg2", "jinja2"))
    return out


def make_app():
    from flask import Flask, Response, render_template, request, send_file

    # Flask autoescapes .html templates (jinja2).
    app = Flask(NAME, template_folder=os.path.join(database.TEMPLATES, "jinja2"))
    db = database.SyncDb()  # psycopg2 pool: werkzeug serves each request in a thread

    @app.route("/text")
    def text():
        return Response(payloads.TEXT, mimetype="text/plain")

    @app.route("/json")
    def json():
        return Response(payloads.json_body(), mimetype="application/json")

    @app.route("/file")
    def file():
        return send_file(payloads.FILE_PATH, mimetype=payloads.FILE_CONTENT_TYPE)

    @app.route("/about")
    def about():
        return Response("flask %s (werkzeug dev server)" % versions()["flask"],
                        mimetype="text/plain")

    @app.route("/db")
    def db_one():
        return Response(payloads.dumps(db.db()), mimetype="application/json")

    @app.route("/queries")
    def queries():
        n = database.queries(request.args.get("queries"))
        return Response(payloads.dumps(db.queries(n)), mimetype="application/json")

    @app.route("/fortunes")
    def fortunes():
        return Response(render_template("fortunes.html", fortunes=db.fortunes()),
                        mimetype="text/html")

    @app.route("/updates")
    def updates():
        n = database.queries(request.args.get("queries"))
        return Response(payloads.dumps(db.updates(n)), mimetype="application/json")

    @app.errorhandler(database.PayloadError)
    def db_error(e):  # 503 without --db-dsn, 500 with the driver's message
        return Response(e.text, status=e.status, mimetype="text/plain")

    return app


def main():
    args = launch.parse_args(NAME, versions, max_workers=1)
    import werkzeug.serving
    from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *a, **kw):  # no per-request access log
            pass

    # run_simple has no backlog option. Werkzeug < 2.1 listens with this class
    # attribute, >= 2.1 with the module constant (both 128): raise both.
    BaseWSGIServer.request_queue_size = launch.BACKLOG
    werkzeug.serving.LISTEN_QUEUE = launch.BACKLOG
    launch.log(NAME, "werkzeug dev server on %s" % launch.bind_address(args.host, args.port))
    make_app().run(host=args.host, port=args.port, threaded=True, use_reloader=False,
                   request_handler=QuietHandler)


if __name__ == "__main__":
    main()
