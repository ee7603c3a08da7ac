"""The Flask WSGI application gunicorn imports (wsgi:app); app.py is the launcher."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks
from flask import Flask, Response, send_file  # noqa: E402

app = Flask("flask-gunicorn")
ABOUT = "flask %s (gunicorn %s)" % (launch.version_of("flask"), launch.version_of("gunicorn"))


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
    return Response(ABOUT, mimetype="text/plain")
