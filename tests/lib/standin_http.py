"""What the loopback stand-ins of outside HTTP APIs (wechat_standin.py,
wechatpay_standin.py) share: a threaded HTTP/1.0 server on 127.0.0.1 on
a port the kernel picks, started and stopped, and a plain answer.

A stand-in subclasses HttpStandIn and defines _serve(h, method, body):
h the request's handler, method "GET" or "POST", body the POST's bytes
(b"" for a GET). After start(), port and base (http://127.0.0.1:port)
say where it listens."""
import http.server
import socketserver
import threading


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class HttpStandIn:
    def start(self):
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def do_GET(self):
                standin._serve(self, "GET", b"")

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                standin._serve(self, "POST", self.rfile.read(n))

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _reply(self, h, status, body, ctype="application/json",
               headers=()):
        """status with body (str or bytes) and headers (name, value)."""
        data = body.encode() if isinstance(body, str) else body
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
