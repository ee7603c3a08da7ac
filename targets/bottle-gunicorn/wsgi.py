"""The Bottle WSGI application gunicorn imports (wsgi:app); app.py is the launcher."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks
import bottle  # noqa: E402

app = bottle.Bottle()
db = database.SyncDb()  # psycopg2 pool, one per gunicorn worker (made after the fork)
TEMPLATES = [os.path.join(database.TEMPLATES, "bottle")]
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


def db_errors(callback):
    """A bottle plugin for the database routes: 503 without --db-dsn, 500 with the
    driver's message."""
    def wrapper(*a, **kw):
        try:
            return callback(*a, **kw)
        except database.PayloadError as e:
            return bottle.HTTPResponse(e.text, status=e.status,
                                       headers={"Content-Type": database.TEXT_TYPE})
    return wrapper


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
    return bottle.template("fortunes", template_lookup=TEMPLATES, fortunes=db.fortunes())


@app.route("/updates", apply=[db_errors])
def updates():
    bottle.response.content_type = "application/json"
    return payloads.dumps(db.updates(database.queries(bottle.request.query.get("queries"))))
