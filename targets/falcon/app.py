"""Falcon under gunicorn (sync workers, -w N, default 1): the production setup Falcon
documents (it ships no server). Execs `python -m gunicorn ... wsgi:app`."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import launch  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "falcon"


def versions():
    import falcon
    import gunicorn

    out = {"falcon": launch.version_of("falcon", falcon),
           "gunicorn": launch.version_of("gunicorn", gunicorn)}
    out.update(launch.optional_versions("psycopg2", "jinja2"))
    return out


if __name__ == "__main__":
    launch.exec_gunicorn(launch.parse_args(NAME, versions),
                         os.path.dirname(os.path.abspath(__file__)), "wsgi:app")
