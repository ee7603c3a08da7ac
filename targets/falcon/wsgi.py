"""The Falcon WSGI application gunicorn imports (wsgi:app); app.py is the launcher."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks
import falcon  # noqa: E402

ABOUT = "falcon %s (gunicorn %s)" % (falcon.__version__, launch.version_of("gunicorn"))


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


app = falcon.App()
app.add_route("/text", Text())
app.add_route("/json", Json())
app.add_route("/file", File())
app.add_route("/about", About())
