"""A local Pwned-Passwords-compatible range API: `GET /range/{5 hex}` answers every suffix of
its breached SHA-1s under that prefix as `SUFFIX:COUNT` lines, padded with `:0` lines when
asked (`Add-Padding: true`), as api.pwnedpasswords.com documents it. It records the paths
asked for, so a test can show that only a prefix left the server."""

from __future__ import annotations

import hashlib
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakePwned:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.paths: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    def breach(self, password: str, count: int = 42) -> None:
        self.counts[hashlib.sha1(password.encode()).hexdigest().upper()] = count  # noqa: S324

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/range/"

    def start(self) -> FakePwned:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.paths.append(self.path)
                prefix = self.path.rsplit("/", 1)[-1].upper()
                lines = [f"{h[5:]}:{n}" for h, n in fake.counts.items() if h.startswith(prefix)]
                if self.headers.get("Add-Padding") == "true":
                    lines += [f"{secrets.token_hex(18)[:35].upper()}:0" for _ in range(5)]
                body = "\r\n".join(lines).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
