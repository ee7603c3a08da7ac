"""The pip test's target: the stdlib's http.server serving /text, plus
`import tinypkg` (installed by pip from the test's own index) for its version.
app.py --versions prints {"python": ..., "tinypkg": ...}; app.py --host H --port P serves."""
import argparse
import http.server
import json
import platform

BODY = b"Hello World!"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/text":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--versions", action="store_true")
    a = ap.parse_args()
    import tinypkg

    if a.versions:
        print(json.dumps({"python": platform.python_version(), "tinypkg": tinypkg.__version__}))
        return
    server = http.server.ThreadingHTTPServer((a.host, a.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
