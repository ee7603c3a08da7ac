"""The Flask WSGI application gunicorn imports (wsgi:app); app.py is the launcher."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks
from flask import Flask, Response, render_template, request, send_file  # noqa: E402

# Flask autoescapes .html templates (jinja2).
app = Flask("flask-gunicorn", template_folder=os.path.join(database.TEMPLATES, "jinja2"))
db = database.SyncDb()  # psycopg2 pool, one per gunicorn worker (made after the fork)
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
