"""A loopback HTTP server that plays Google Translate's ``translate_a/single`` API.

It answers as the API googletrans calls does, with the text translated as
``[<target>] <text>``, and counts the requests. Tests point the console's
TRANSLATE_BASE_URL at it.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class TranslateDouble:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.requests = 0

    def start(self) -> "TranslateDouble":
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - signature fixed by http.server
                pass

            def do_GET(self):
                query = parse_qs(urlparse(self.path).query)
                double.requests += 1
                text, target = query.get("q", [""])[0], query.get("tl", ["en"])[0]
                body = json.dumps([[[f"[{target}] {text}", text, None, None, 10]], None, "auto"]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
