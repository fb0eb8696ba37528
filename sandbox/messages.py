"""What the sandbox remembers of each accepted message, to tell its status.

A message's outcome is a plan of timed steps (`scenarios`); its status at any
moment is the last step due by then, whether or not its callback was sent
(callbacks may be switched off or dropped on purpose). Times are the
sandbox's: steps fall due after `delay × time_scale` real seconds, and their
reports carry that real time, `start + delay × time_scale`, as the callbacks do.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from campaigns.telesign.codes import status_code_info

from .reports import ChannelReferences, delivery_report, provider_timestamp
from .scenarios import Step, sms_only_steps, viber_steps

READ_CODE = 3005


@dataclass
class MessageRecord:
    reference_id: str
    external_id: str | None
    channels: list[str]  # in the order tried
    digit: int  # the phone number's last digit: its scenario
    image_url: str = ""
    fallback_time: int = 300
    accepted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    accepted_monotonic: float = field(default_factory=time.monotonic)
    references: ChannelReferences = field(default_factory=ChannelReferences)
    # Set once the outcome is planned (when its callbacks are scheduled, or
    # when its status is first asked for).
    start: datetime | None = None
    start_monotonic: float = 0.0
    steps: list[Step] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def has_sms_fallback(self) -> bool:
        if "viber" not in self.channels:
            return False
        return "sms" in self.channels[self.channels.index("viber") + 1 :]

    def steps_with(self, *, image_ok: bool) -> list[Step]:
        """The message's plan: Viber first if asked for, else an SMS alone."""
        if "viber" not in self.channels:
            return sms_only_steps(self.digit) if self.channels == ["sms"] else []
        return viber_steps(
            self.digit,
            has_sms=self.has_sms_fallback,
            image_ok=image_ok,
            fallback_time=self.fallback_time,
        )

    def planned(self, start: datetime, start_monotonic: float, steps: list[Step]):
        """Fix the plan once: its first planning wins."""
        with self._lock:
            if self.steps is None:
                self.start, self.start_monotonic, self.steps = (
                    start,
                    start_monotonic,
                    steps,
                )

    def expired(self, *, now_monotonic: float, lifetime: float) -> bool:
        return now_monotonic - self.accepted_monotonic > lifetime

    def status_body(self, *, now_monotonic: float, time_scale: float) -> dict:
        """Telesign's answer to a status request: the last report due by now
        (a message once read stays read), or "in progress" before the first."""
        due = [
            step
            for step in self.steps or []
            if self.start_monotonic + step.delay * time_scale <= now_monotonic
        ]
        if not due:
            return self._in_progress()
        step = max(due, key=lambda s: (s.viber_code == READ_CODE, s.delay))
        body = delivery_report(
            reference_id=self.reference_id,
            external_id=self.external_id,
            references=self.references,
            viber_code=step.viber_code,
            sms_code=step.sms_code,
            at=self.start + timedelta(seconds=step.delay * time_scale),
        )
        return {**body, "additional_info": {}}

    def _in_progress(self) -> dict:
        first = self.channels[0] if self.channels else "sms"
        entry = {
            "code": 3001,
            "description": status_code_info(3001).description,
            "updated_on": provider_timestamp(self.accepted_at, colon_millis=True),
        }
        return {
            "reference_id": self.reference_id,
            "external_id": self.external_id,
            "status": {**entry, "last_channel": first},
            # Telesign leaves out a channel's reference while it is 3001.
            "channel_status": [{first: entry}],
            "additional_info": {},
        }
