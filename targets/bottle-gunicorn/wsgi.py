"""The Bottle WSGI application gunicorn imports (wsgi:app); app.py is the launcher."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks
import bottle  # noqa: E402

app = bottle.Bottle()
ABOUT = "bottle %s (gunicorn %s)" % (bottle.__version__, launch.version_of("gunicorn"))


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
    return ABOUT
