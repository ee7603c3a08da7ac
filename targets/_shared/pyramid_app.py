# The Pyramid WSGI application shared by the pyramid (wsgiref) and pyramid-waitress
# targets: they differ only in the server.
from . import launch, payloads


def make_app(server):
    from pyramid.config import Configurator
    from pyramid.response import FileResponse, Response

    about_text = "pyramid %s (%s)" % (launch.version_of("pyramid"), server)

    def text(request):
        return Response(body=payloads.TEXT_BYTES, content_type="text/plain")

    def json(request):
        return Response(body=payloads.json_body(), content_type="application/json")

    def file(request):
        return FileResponse(payloads.FILE_PATH, request=request,
                            content_type=payloads.FILE_CONTENT_TYPE)

    def about(request):
        return Response(body=about_text.encode(), content_type="text/plain")

    config = Configurator()  # not `with`: keep to what pyramid 1.10 (the seed's pin) has
    for name, view in (("text", text), ("json", json), ("file", file), ("about", about)):
        config.add_route(name, "/" + name)
        config.add_view(view, route_name=name, request_method="GET")
    return config.make_wsgi_app()
