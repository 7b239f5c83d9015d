"""Stand-ins for the WeCom (企业微信) group robot and the DingTalk (钉钉)
custom robot webhooks, written from their published documentation, on
loopback only.

WeCom: POST /cgi-bin/webhook/send?key=KEY with a JSON body
{"msgtype": "text"|"markdown", ...}; markdown.content at most 4096
bytes, text.content at most 2048; answers {"errcode": 0, "errmsg": "ok"},
93000 for an unknown key, 40008 for a bad message type, 40058 for a
missing or oversize content.

DingTalk: POST /robot/send?access_token=TOKEN[&timestamp=MS&sign=SIGN]
with {"msgtype": "text"|"markdown", ...} (markdown: title and text).
A robot with the 加签 setting checks sign == urlencode(base64(
HMAC-SHA256(secret, timestamp + "\\n" + secret))) and the timestamp
within an hour of now; otherwise errcode 310000. An unknown token is
errcode 300001.
"""
import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def dingtalk_sign(secret, timestamp):
    mac = hmac.new(secret.encode(), ("%s\n%s" % (timestamp, secret)).encode(),
                   hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(mac))


class RobotStandin:
    def __init__(self, wecom_keys=(), dingtalk=None):
        self.wecom_keys = set(wecom_keys)
        self.dingtalk = dict(dingtalk or {})    # token -> secret or None
        self.wecom = []         # accepted bodies
        self.ding = []          # accepted bodies
        self.refused = []       # (robot, errcode, query)
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                u = urllib.parse.urlsplit(self.path)
                # keep_blank_values: a '+' in the sign stays as sent
                q = dict(urllib.parse.parse_qsl(u.query, True))
                rawq = dict(p.split("=", 1) for p in u.query.split("&")
                            if "=" in p)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                if u.path == "/cgi-bin/webhook/send":
                    code = outer._wecom(q, body)
                    robot = "wecom"
                elif u.path == "/robot/send":
                    code = outer._ding(q, rawq, body)
                    robot = "dingtalk"
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                with outer.lock:
                    if code == 0:
                        (outer.wecom if robot == "wecom" else
                         outer.ding).append(body)
                    else:
                        outer.refused.append((robot, code, u.query))
                out = json.dumps({"errcode": code, "errmsg": "ok" if code == 0
                                  else "refused"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _content_ok(self, body, field, limit):
        mt = body.get("msgtype") if isinstance(body, dict) else None
        if mt not in ("text", "markdown"):
            return 40008
        part = body.get(mt)
        if not isinstance(part, dict):
            return 40058
        c = part.get(field if mt == "markdown" else "content")
        if not isinstance(c, str) or not c or \
                len(c.encode()) > (limit if mt == "markdown" else 2048):
            return 40058
        return 0

    def _wecom(self, q, body):
        if q.get("key") not in self.wecom_keys:
            return 93000
        return self._content_ok(body, "content", 4096)

    def _ding(self, q, rawq, body):
        token = q.get("access_token")
        if token not in self.dingtalk:
            return 300001
        secret = self.dingtalk[token]
        if secret is not None:
            ts, sign = rawq.get("timestamp"), rawq.get("sign")
            if not ts or not sign or not ts.isdigit():
                return 310000
            if abs(int(ts) - time.time() * 1000) > 3600 * 1000:
                return 310000
            want = dingtalk_sign(secret, ts)
            # the sign as sent, url-decoded, against the base64 itself
            if urllib.parse.unquote(sign) != urllib.parse.unquote_plus(want):
                return 310000
        if isinstance(body, dict) and body.get("msgtype") == "markdown" and \
                not isinstance(body["markdown"].get("title"), str):
            return 40058
        return self._content_ok(body, "text", 5000)
