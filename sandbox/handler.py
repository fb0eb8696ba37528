"""The sandbox's HTTP routes: Telesign's endpoint and the test knobs.

POST /v1/omnichannel    Telesign's send endpoint
GET  /v1/omnichannel/{reference_id}    a message's status, as Telesign tells it
GET  /sandbox/ledger    counts of requests and callbacks (?full=1: every entry)
GET  /sandbox/config    the knobs, without the API key
POST /sandbox/config    change knobs, e.g. {"rate_5xx": 0.5}
POST /sandbox/reset     forget the ledger and pending callbacks
GET  /health
"""

import json
import logging
import socket
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlparse

from campaigns.telesign.client import OMNICHANNEL_PATH

from .omnichannel import Answer, omnichannel_answer
from .state import SandboxState
from .status import status_answer

logger = logging.getLogger(__name__)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TelesignSandbox/1.0"
    state: SandboxState  # set on a subclass made per server

    def setup(self):
        super().setup()
        # Answer without Nagle's delay: headers and body leave as written,
        # so the added latency is the only latency.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self):
        route = urlparse(self.path)
        if route.path.startswith(OMNICHANNEL_PATH + "/"):
            reference_id = route.path[len(OMNICHANNEL_PATH) + 1 :]
            self._answer(
                status_answer(
                    self.state, self.headers, path=route.path, reference_id=reference_id
                )
            )
        elif route.path == "/sandbox/ledger":
            full = bool(parse_qs(route.query).get("full"))
            self._send_json(200, self.state.ledger_summary(full=full))
        elif route.path == "/sandbox/config":
            self._send_json(200, self.state.config.public())
        elif route.path == "/health":
            self._send_json(200, {"ok": True})
        else:
            self._send_json(404, {"error": "not found"})

    def do_POST(self):
        route = urlparse(self.path).path
        body = self._read_body()
        if route == OMNICHANNEL_PATH:
            self._omnichannel(body)
        elif route == "/sandbox/config":
            try:
                self.state.config.update(json.loads(body or b"{}"))
            except (ValueError, KeyError, AttributeError) as exc:
                self._send_json(400, {"error": f"bad config: {exc}"})
                return
            self._send_json(200, {"ok": True})
        elif route == "/sandbox/reset":
            self.state.reset()
            self._send_json(200, {"ok": True})
        else:
            self._send_json(404, {"error": "not found"})

    def _omnichannel(self, body: bytes) -> None:
        self._answer(omnichannel_answer(self.state, self.headers, body))

    def _answer(self, answer: Answer) -> None:
        if answer.hang:
            time.sleep(self.state.config.timeout_hang_seconds)
            self.close_connection = True
            return
        self._send_json(answer.http_status, answer.body, answer.headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, http_status: int, payload: dict, headers=None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(http_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Allow", "GET,POST,HEAD")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
