"""Runs the sandbox: its HTTP server and its callback senders, on threads."""

import threading
from http.server import ThreadingHTTPServer

from .callbacks import CallbackSender
from .config import SandboxConfig
from .handler import SandboxHandler
from .state import SandboxState

CALLBACK_THREADS = 4


class _SandboxServer(ThreadingHTTPServer):
    # Many workers open their pooled connections at once; the default backlog
    # of 5 drops some, which clients see as a reset after sending.
    request_queue_size = 256
    daemon_threads = True


class TelesignSandbox:
    """The sandbox on `host:port` (port 0: any free port, see `url`)."""

    def __init__(
        self, config: SandboxConfig, *, host: str = "127.0.0.1", port: int = 8025
    ):
        self.state = SandboxState(config)
        handler = type("Handler", (SandboxHandler,), {"state": self.state})
        self.server = _SandboxServer((host, port), handler)
        self.threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, callback_threads: int = CALLBACK_THREADS) -> "TelesignSandbox":
        """Serve in the background (tests); returns at once."""
        serve = threading.Thread(target=self.server.serve_forever, daemon=True)
        serve.start()
        self.threads.append(serve)
        self._start_senders(callback_threads)
        return self

    def serve_forever(self, callback_threads: int = CALLBACK_THREADS) -> None:
        """Serve in this thread (the command) until `stop` or an interrupt."""
        self._start_senders(callback_threads)
        self.server.serve_forever()

    def stop(self) -> None:
        self.state.schedule.close()
        self.server.shutdown()
        self.server.server_close()

    def _start_senders(self, count: int) -> None:
        for _ in range(count):
            sender = threading.Thread(
                target=CallbackSender(self.state).run, daemon=True
            )
            sender.start()
            self.threads.append(sender)
