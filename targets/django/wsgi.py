"""A one-file Django project (settings, models, views, urls, WSGI application) that
gunicorn imports as wsgi:application; app.py is the launcher. The seed's django_test
project was startproject's; this keeps its stateless middleware and no apps. The
database payloads use Django's ORM, as TechEmpower's django does: one persistent
connection per worker thread (CONN_MAX_AGE None), so --db-pool does not apply."""
import functools
import operator
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

import django  # noqa: E402
from django.conf import settings  # noqa: E402


def databases(dsn):
    """settings.DATABASES for a libpq DSN (URI or key=value): its parts in NAME, USER,
    PASSWORD, HOST, PORT, the rest (sslmode, ...) in OPTIONS. Empty without a DSN."""
    if dsn is None:
        return {}
    from psycopg2.extensions import parse_dsn

    parts = parse_dsn(dsn)
    parts.update(database.libpq_timeouts(parts))
    return {"default": {
        "ENGINE": "django.db.backends.postgresql",
        # libpq's default database is the user's name; Django's (NAME None) 'postgres'.
        "NAME": parts.pop("dbname", None) or parts.get("user"),
        "USER": parts.pop("user", ""),
        "PASSWORD": parts.pop("password", ""),
        "HOST": parts.pop("host", ""),
        "PORT": parts.pop("port", ""),
        "CONN_MAX_AGE": None,  # persistent: one connection per worker thread
        "OPTIONS": parts,
    }}


settings.configure(
    DEBUG=False,
    SECRET_KEY="mfbench-not-secret",  # no sessions, no signing: nothing to protect
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    DATABASES=databases(database.dsn()),
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [os.path.join(database.TEMPLATES, "django")]}],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    USE_TZ=True,
    LOGGING_CONFIG=None,  # keep gunicorn's logging; Django has no access log anyway
)
django.setup()  # the models below need the app registry

from django.core.exceptions import ObjectDoesNotExist  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import Error as DjangoDatabaseError  # noqa: E402
from django.db import models  # noqa: E402
from django.http import FileResponse, HttpResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import path  # noqa: E402

ABOUT = "django %s (gunicorn %s)" % (django.get_version(), launch.version_of("gunicorn"))


class World(models.Model):
    id = models.IntegerField(primary_key=True)
    randomnumber = models.IntegerField()

    class Meta:
        app_label = "mfbench"
        db_table = "world"
        managed = False


class Fortune(models.Model):
    id = models.IntegerField(primary_key=True)
    message = models.CharField(max_length=2048)

    class Meta:
        app_label = "mfbench"
        db_table = "fortune"
        managed = False


def database_view(view):
    """The database views' failures as text/plain answers: 503 without --db-dsn, 500
    with the driver's message. A decorator, not a middleware: /text and /json keep
    their cost."""
    @functools.wraps(view)
    def wrapper(request):
        try:
            if database.dsn() is None:  # DATABASES is {} (Django fills in a dummy backend)
                raise database.NotConfigured()
            return view(request)
        except (DjangoDatabaseError, ObjectDoesNotExist) as e:
            err = database.DatabaseError(e)
        except database.PayloadError as e:
            err = e
        return HttpResponse(err.text, status=err.status, content_type=database.TEXT_TYPE)
    return wrapper


def text(request):
    return HttpResponse(payloads.TEXT, content_type="text/plain")


def json(request):
    return HttpResponse(payloads.json_body(), content_type="application/json")


def file(request):
    return FileResponse(open(payloads.FILE_PATH, "rb"), content_type=payloads.FILE_CONTENT_TYPE)


def about(request):
    return HttpResponse(ABOUT, content_type="text/plain")


def as_json(worlds):
    return HttpResponse(payloads.dumps([database.world(w.id, w.randomnumber) for w in worlds]),
                        content_type="application/json")


@database_view
def db(request):
    w = World.objects.get(id=database.random_id())
    return HttpResponse(payloads.dumps(database.world(w.id, w.randomnumber)),
                        content_type="application/json")


@database_view
def queries(request):
    n = database.queries(request.GET.get("queries"))
    return as_json([World.objects.get(id=i) for i in database.random_ids(n)])


@database_view
def fortunes(request):
    rows = database.sort_fortunes(Fortune.objects.all(),
                                  Fortune(id=0, message=database.EXTRA_FORTUNE),
                                  message=operator.attrgetter("message"))
    return render(request, "fortunes.html", {"fortunes": rows})  # autoescaped


@database_view
def updates(request):
    n = database.queries(request.GET.get("queries"))
    worlds = [World.objects.get(id=i) for i in database.random_ids(n)]
    for w in worlds:
        w.randomnumber = database.new_number(w.randomnumber)
    # One UPDATE ... CASE statement, rows in id order (concurrent batches cannot deadlock).
    World.objects.bulk_update(sorted(worlds, key=operator.attrgetter("id")), ["randomnumber"])
    return as_json(worlds)


urlpatterns = [path("text", text), path("json", json), path("file", file), path("about", about),
               path("db", db), path("queries", queries), path("fortunes", fortunes),
               path("updates", updates)]

application = get_wsgi_application()
