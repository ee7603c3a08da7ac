"""Django under gunicorn --workers=1 (sync): seed parity, the seed ran
`gunicorn -b 0.0.0.0:8000 django_test.wsgi --workers=1`.
Execs `python -m gunicorn ... wsgi:application` so the pid stays the gunicorn master's."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import launch  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "django"


def versions():
    import django
    import gunicorn

    out = {"django": launch.version_of("django", django),
           "gunicorn": launch.version_of("gunicorn", gunicorn)}
    out.update(launch.optional_versions("psycopg2"))
    return out


if __name__ == "__main__":
    launch.exec_gunicorn(launch.parse_args(NAME, versions),
                         os.path.dirname(os.path.abspath(__file__)), "wsgi:application")
