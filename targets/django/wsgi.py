"""A one-file Django project (settings, views, urls, WSGI application) that gunicorn
imports as wsgi:application; app.py is the launcher. The seed's django_test project
was startproject's; this keeps its stateless middleware and drops the database apps."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    DEBUG=False,
    SECRET_KEY="mfbench-not-secret",  # no sessions, no signing: nothing to protect
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    DATABASES={},
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    USE_TZ=True,
    LOGGING_CONFIG=None,  # keep gunicorn's logging; Django has no access log anyway
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import FileResponse, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

ABOUT = "django %s (gunicorn %s)" % (django.get_version(), launch.version_of("gunicorn"))


def text(request):
    return HttpResponse(payloads.TEXT, content_type="text/plain")


def json(request):
    return HttpResponse(payloads.json_body(), content_type="application/json")


def file(request):
    return FileResponse(open(payloads.FILE_PATH, "rb"), content_type=payloads.FILE_CONTENT_TYPE)


def about(request):
    return HttpResponse(ABOUT, content_type="text/plain")


urlpatterns = [path("text", text), path("json", json), path("file", file), path("about", about)]

application = get_wsgi_application()
