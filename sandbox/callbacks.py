"""Callbacks waiting for their time, and the threads that post them.

Request threads add callbacks to the schedule with a delay; sender threads
take each when it is due and post it signed as Telesign signs callbacks,
with the app's own signing code.
"""

import heapq
import itertools
import json
import logging
import threading
import time

import requests

from campaigns.telesign.signing import callback_headers

logger = logging.getLogger(__name__)

# A callback that is not answered 2xx is posted again after these pauses
# (Telesign's documented policy for SMS callbacks: four attempts, 5, 10 and 15
# seconds apart), without holding up the others; `SandboxConfig` can shorten
# them for tests.
POST_TIMEOUT_SECONDS = 5
# How long a sender waits before looking again whether the sandbox stops.
IDLE_WAIT_SECONDS = 0.5


class CallbackSchedule:
    """Callbacks by due time, earliest first; safe to share between threads."""

    def __init__(self):
        self._ready = threading.Condition()
        self._heap: list[tuple[float, int, dict, str | None, int]] = []
        # Breaks ties between callbacks due at the same moment, in order added.
        self._order = itertools.count(1)
        self._closed = False

    def __len__(self) -> int:
        return len(self._heap)

    def add(
        self, delay: float, payload: dict, url: str | None, attempt: int = 1
    ) -> None:
        due = time.monotonic() + max(0.0, delay)
        with self._ready:
            heapq.heappush(self._heap, (due, next(self._order), payload, url, attempt))
            self._ready.notify()

    def next_due(self) -> tuple[dict, str | None, int] | None:
        """Wait for the next due callback (payload, url, attempt); None once
        the schedule is closed."""
        with self._ready:
            while not self._closed:
                if self._heap:
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        _, _, payload, url, attempt = heapq.heappop(self._heap)
                        return payload, url, attempt
                    self._ready.wait(min(wait, IDLE_WAIT_SECONDS))
                else:
                    self._ready.wait(IDLE_WAIT_SECONDS)
            return None

    def clear(self) -> None:
        with self._ready:
            self._heap.clear()

    def close(self) -> None:
        """Wake every sender and let each stop."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()


class CallbackSender:
    """Posts due callbacks until the schedule closes; one per thread."""

    def __init__(self, state):
        self.state = state
        self.session = requests.Session()

    def run(self) -> None:
        while True:
            item = self.state.schedule.next_due()
            if item is None:
                return
            payload, url, attempt = item
            if not url:
                continue
            if self.deliver(payload, url):
                self.state.callback_counted(delivered=True)
                continue
            pauses = self.state.config.callback_retry_pauses
            if attempt > len(pauses):
                self.state.callback_counted(delivered=False)
            else:
                self.state.schedule.add(pauses[attempt - 1], payload, url, attempt + 1)

    def deliver(self, payload: dict, url: str) -> bool:
        """Post one callback once; True if it was accepted (2xx)."""
        config = self.state.config
        body = json.dumps(payload).encode()
        headers = callback_headers(config.customer_id, config.api_key, body)
        try:
            response = self.session.post(
                url, data=body, headers=headers, timeout=POST_TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            logger.info("callback to %s failed: %s", url, exc)
            return False
        if response.status_code < 300:
            return True
        logger.info("callback got HTTP %s", response.status_code)
        return False
