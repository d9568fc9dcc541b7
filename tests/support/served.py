"""Documents served over real HTTP on loopback: what honnin fetches from other hosts (a
client's sector identifier document, a client's JWKS), served as the test changes them."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer


@dataclass
class Served:
    base: str
    documents: dict[str, Callable[[], bytes]]
    hits: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@contextmanager
def serving(documents: dict[str, Callable[[], bytes]]) -> Iterator[Served]:
    """Serve each path's document (read at each request, so a test can change it) as JSON;
    404 for any other path."""
    served = Served("", documents)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.hits[self.path] += 1
            make = served.documents.get(self.path)
            if make is None:
                self.send_error(404)
                return
            body = make()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    served.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
