"""Bottle under gunicorn (sync workers, -w N, default 1): the production setup.
Execs `python -m gunicorn ... wsgi:app` so the pid stays the gunicorn master's."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import launch  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "bottle-gunicorn"


def versions():
    import bottle
    import gunicorn

    out = {"bottle": launch.version_of("bottle", bottle),
           "gunicorn": launch.version_of("gunicorn", gunicorn)}
    out.update(launch.optional_versions("psycopg2"))
    return out


if __name__ == "__main__":
    launch.exec_gunicorn(launch.parse_args(NAME, versions),
                         os.path.dirname(os.path.abspath(__file__)), "wsgi:app")
