"""Pyramid under wsgiref.simple_server (single-threaded): seed parity, the seed ran
make_server(...).serve_forever()."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import launch, pyramid_app  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "pyramid"


def versions():
    import pyramid  # noqa: F401

    out = {"pyramid": launch.version_of("pyramid", pyramid)}
    out.update(launch.optional_versions("psycopg2", "jinja2"))
    return out


def main():
    args = launch.parse_args(NAME, versions, max_workers=1)
    import socket
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class BigBacklogServer(WSGIServer):
        request_queue_size = launch.BACKLOG  # socketserver's default is 5
        if ":" in args.host:
            address_family = socket.AF_INET6

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *a, **kw):  # no per-request access log
            pass

    app = pyramid_app.make_app("wsgiref")
    server = make_server(args.host, args.port, app, server_class=BigBacklogServer,
                         handler_class=QuietHandler)
    launch.log(NAME, "wsgiref server on %s" % launch.bind_address(args.host, args.port))
    server.serve_forever()


if __name__ == "__main__":
    main()
