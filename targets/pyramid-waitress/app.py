"""Pyramid under waitress (one process, waitress's 4 threads): the production setup
Pyramid documents (pserve uses waitress)."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import launch, pyramid_app  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "pyramid-waitress"


def versions():
    import pyramid  # noqa: F401
    import waitress

    out = {"pyramid": launch.version_of("pyramid", pyramid),
           "waitress": launch.version_of("waitress", waitress)}
    out.update(launch.optional_versions("psycopg2", "jinja2"))
    return out


def main():
    args = launch.parse_args(NAME, versions, max_workers=1,
                             connections="waitress connection_limit")
    import logging
    import waitress

    # waitress logs "Serving on ..." at INFO and has no access log.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    app = pyramid_app.make_app("waitress")
    # connection_limit: waitress's default (100) unless the matrix sets
    # limits.connections.value; waitress counts its listener and trigger in it.
    kw = {} if args.connections is None else {"connection_limit": args.connections}
    waitress.serve(app, host=args.host, port=args.port, backlog=launch.BACKLOG,
                   ident="waitress", **kw)


if __name__ == "__main__":
    main()
