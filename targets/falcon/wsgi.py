"""The Falcon WSGI application gunicorn imports (wsgi:app); app.py is the launcher."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks
import falcon  # noqa: E402

ABOUT = "falcon %s (gunicorn %s)" % (falcon.__version__, launch.version_of("gunicorn"))
DB = database.SyncDb()  # psycopg2 pool, one per gunicorn worker (made after the fork)


class Text:
    def on_get(self, req, resp):
        resp.content_type = "text/plain"
        resp.data = payloads.TEXT_BYTES


class Json:
    def on_get(self, req, resp):
        resp.content_type = "application/json"
        resp.data = payloads.json_body()


class File:
    def on_get(self, req, resp):
        resp.content_type = payloads.FILE_CONTENT_TYPE
        f = open(payloads.FILE_PATH, "rb")
        resp.set_stream(f, os.fstat(f.fileno()).st_size)


class About:
    def on_get(self, req, resp):
        resp.content_type = "text/plain"
        resp.text = ABOUT


class Db:
    def on_get(self, req, resp):
        resp.content_type = "application/json"
        resp.data = payloads.dumps(DB.db()).encode()


class Queries:
    def on_get(self, req, resp):
        resp.content_type = "application/json"
        resp.data = payloads.dumps(DB.queries(database.queries(req.get_param("queries")))).encode()


class Fortunes:
    def on_get(self, req, resp):
        resp.content_type = database.HTML_TYPE
        resp.text = database.jinja2_template().render(fortunes=DB.fortunes())  # autoescaped


class Updates:
    def on_get(self, req, resp):
        resp.content_type = "application/json"
        resp.data = payloads.dumps(DB.updates(database.queries(req.get_param("queries")))).encode()


def db_error(req, resp, ex, params):
    """503 without --db-dsn, 500 with the driver's message."""
    resp.status = falcon.code_to_http_status(ex.status)
    resp.content_type = database.TEXT_TYPE
    resp.text = ex.text


app = falcon.App()
app.add_route("/text", Text())
app.add_route("/json", Json())
app.add_route("/file", File())
app.add_route("/about", About())
app.add_route("/db", Db())
app.add_route("/queries", Queries())
app.add_route("/fortunes", Fortunes())
app.add_route("/updates", Updates())
app.add_error_handler(database.PayloadError, db_error)
