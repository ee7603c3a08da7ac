"""Tornado under its own HTTPServer: seed parity. --workers N forks N processes
sharing the listening socket (tornado.process.fork_processes)."""
import os
import sys

_TARGETS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _TARGETS)
from _shared import database, launch, payloads  # noqa: E402
sys.path.remove(_TARGETS)  # the targets/<name> folders must not shadow frameworks

NAME = "tornado"


def versions():
    import tornado

    out = {"tornado": launch.version_of("tornado", tornado)}
    out.update(launch.optional_versions("asyncpg"))
    return out


def make_app():
    import tornado
    import tornado.web

    about_text = "tornado %s (tornado.httpserver)" % tornado.version

    class Text(tornado.web.RequestHandler):
        def get(self):
            self.set_header("Content-Type", "text/plain")
            self.write(payloads.TEXT_BYTES)

    class Json(tornado.web.RequestHandler):
        def get(self):
            self.set_header("Content-Type", "application/json")
            self.write(payloads.json_body())

    class File(tornado.web.StaticFileHandler):
        # /file maps to static/file.bin whatever the URL says.
        @classmethod
        def get_absolute_path(cls, root, path):
            return payloads.FILE_PATH

        def validate_absolute_path(self, root, absolute_path):
            return absolute_path

        def get_content_type(self):
            return payloads.FILE_CONTENT_TYPE

    class About(tornado.web.RequestHandler):
        def get(self):
            self.set_header("Content-Type", "text/plain")
            self.write(about_text)

    db = database.AsyncDb()  # asyncpg pool, made by the first request in this process's loop

    class Database(tornado.web.RequestHandler):
        """A database payload: answer() the page; 503 without --db-dsn, 500 with the
        driver's message."""

        async def get(self):
            try:
                await self.answer()
            except database.PayloadError as e:
                self.clear()
                self.set_status(e.status)
                self.set_header("Content-Type", database.TEXT_TYPE)
                self.finish(e.text)

        def queries(self):
            return database.queries(self.get_argument("queries", None))

        def write_json(self, obj):
            self.set_header("Content-Type", "application/json")
            self.finish(payloads.dumps(obj))

    class Db(Database):
        async def answer(self):
            self.write_json(await db.db())

    class Queries(Database):
        async def answer(self):
            self.write_json(await db.queries(self.queries()))

    class Fortunes(Database):
        async def answer(self):
            # tornado.template escapes {{ }}; render() sets text/html; charset=UTF-8.
            self.render("fortunes.html", fortunes=await db.fortunes())

    class Updates(Database):
        async def answer(self):
            self.write_json(await db.updates(self.queries()))

    # log_function: no per-request access log (tornado.access); errors still log.
    return tornado.web.Application(
        [(r"/text", Text), (r"/json", Json), (r"/(file)", File, {"path": payloads.STATIC_DIR}),
         (r"/about", About), (r"/db", Db), (r"/queries", Queries), (r"/fortunes", Fortunes),
         (r"/updates", Updates)],
        template_path=os.path.join(database.TEMPLATES, "tornado"),
        log_function=lambda handler: None)


def main():
    args = launch.parse_args(NAME, versions)
    import asyncio
    import logging
    import tornado.httpserver
    import tornado.netutil
    import tornado.process

    logging.basicConfig(level=logging.WARNING)
    sockets = tornado.netutil.bind_sockets(args.port, address=args.host,
                                           backlog=launch.BACKLOG)
    launch.log(NAME, "tornado server on %s, %d process(es)"
               % (launch.bind_address(args.host, args.port), args.workers))
    if args.workers > 1:
        tornado.process.fork_processes(args.workers)

    async def serve():
        server = tornado.httpserver.HTTPServer(make_app())
        server.add_sockets(sockets)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
