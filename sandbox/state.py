"""What the running sandbox shares between its threads: knobs, the ledger of
every request, the callback schedule and the image cache."""

import random
import threading
from collections import Counter

from .callbacks import CallbackSchedule
from .config import SandboxConfig
from .images import ImageChecker
from .messages import MessageRecord


class SandboxState:
    def __init__(self, config: SandboxConfig):
        self.config = config
        self.lock = threading.Lock()  # guards the ledger and the counters
        self.ledger: list[dict] = []
        self.random = random.Random(config.seed)
        self.schedule = CallbackSchedule()
        self.images = ImageChecker(config)
        self.callbacks_sent = 0
        self.callbacks_failed = 0
        # Accepted messages by reference_id, to answer status requests.
        self.messages: dict[str, MessageRecord] = {}
        self.callbacks_dropped = 0
        self.status_codes: Counter = Counter()

    def record(self, entry: dict) -> None:
        """Add one answered omnichannel request to the ledger."""
        with self.lock:
            self.ledger.append(entry)

    def ledger_summary(self, *, full: bool = False) -> dict:
        """Counts for tests and benchmarks; with `full`, every entry too."""
        with self.lock:
            accepted = Counter(
                e["external_id"] for e in self.ledger if e.get("code") == 3001
            )
            codes = Counter(str(e.get("code")) for e in self.ledger)
            summary = {
                "requests": len(self.ledger),
                "accepted": sum(accepted.values()),
                "codes": dict(codes),
                "accepted_by_external_id": dict(accepted),
                "callbacks_sent": self.callbacks_sent,
                "callbacks_failed": self.callbacks_failed,
                "callbacks_pending": len(self.schedule),
                "callbacks_dropped": self.callbacks_dropped,
                "status_requests": sum(self.status_codes.values()),
                "status_codes": {str(k): v for k, v in self.status_codes.items()},
            }
            if full:
                summary["entries"] = list(self.ledger)
            return summary

    def reset(self) -> None:
        with self.lock:
            self.ledger.clear()
            self.schedule.clear()
            self.callbacks_sent = self.callbacks_failed = 0
            self.messages.clear()
            self.callbacks_dropped = 0
            self.status_codes.clear()

    def message_add(self, record: MessageRecord, *, callbacks_dropped: bool) -> None:
        """Remember an accepted message (and whether its callbacks are lost)."""
        with self.lock:
            self.messages[record.reference_id] = record
            self.callbacks_dropped += callbacks_dropped

    def message(self, reference_id: str) -> MessageRecord | None:
        with self.lock:
            return self.messages.get(reference_id)

    def callbacks_lost(self) -> bool:
        """Roll whether a newly accepted message's callbacks are never sent."""
        rate = self.config.rate_callback_loss
        return bool(rate) and self.random.random() < rate

    def status_counted(self, code: int) -> None:
        with self.lock:
            self.status_codes[code] += 1

    def callback_schedule(self, delay: float, payload: dict, url: str | None) -> None:
        """Post `payload` to `url` after `delay` seconds, unless callbacks are off."""
        if self.config.callbacks_enabled:
            self.schedule.add(delay, payload, url)

    def callback_counted(self, *, delivered: bool) -> None:
        with self.lock:
            if delivered:
                self.callbacks_sent += 1
            else:
                self.callbacks_failed += 1
