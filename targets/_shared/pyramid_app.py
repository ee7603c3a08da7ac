# The Pyramid WSGI application shared by the pyramid (wsgiref) and pyramid-waitress
# targets: they differ only in the server.
from . import database, launch, payloads


def make_app(server):
    from pyramid.config import Configurator
    from pyramid.response import FileResponse, Response

    about_text = "pyramid %s (%s)" % (launch.version_of("pyramid"), server)
    db = database.SyncDb()  # psycopg2 pool: waitress's threads share it

    def text(request):
        return Response(body=payloads.TEXT_BYTES, content_type="text/plain")

    def json(request):
        return Response(body=payloads.json_body(), content_type="application/json")

    def file(request):
        return FileResponse(payloads.FILE_PATH, request=request,
                            content_type=payloads.FILE_CONTENT_TYPE)

    def about(request):
        return Response(body=about_text.encode(), content_type="text/plain")

    def db_one(request):
        return Response(body=payloads.dumps(db.db()).encode(), content_type="application/json")

    def queries(request):
        n = database.queries(request.GET.get("queries"))
        return Response(body=payloads.dumps(db.queries(n)).encode(),
                        content_type="application/json")

    def fortunes(request):
        # jinja2, autoescaped (pyramid_jinja2 is not packaged by Debian)
        return Response(database.jinja2_template().render(fortunes=db.fortunes()),
                        content_type="text/html", charset="utf-8")

    def updates(request):
        n = database.queries(request.GET.get("queries"))
        return Response(body=payloads.dumps(db.updates(n)).encode(),
                        content_type="application/json")

    def db_error(exc, request):  # 503 without --db-dsn, 500 with the driver's message
        return Response(exc.text, status=exc.status, content_type="text/plain", charset="utf-8")

    config = Configurator()  # not `with`: keep to what pyramid 1.10 (the seed's pin) has
    for name, view in (("text", text), ("json", json), ("file", file), ("about", about),
                       ("db", db_one), ("queries", queries), ("fortunes", fortunes),
                       ("updates", updates)):
        config.add_route(name, "/" + name)
        config.add_view(view, route_name=name, request_method="GET")
    config.add_view(db_error, context=database.PayloadError)  # an exception view
    return config.make_wsgi_app()
