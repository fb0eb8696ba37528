"""Answers `POST /v1/omnichannel` as Telesign does, and plans its callbacks.

The order is Telesign's: credentials, size, JSON, fields; then the fault
knobs (429, 503, accepted without an answer); then 3001 with a fresh
reference_id. Every answer is written to the ledger; every accepted message
is remembered (for `GET /v1/omnichannel/{reference_id}`), and the callbacks
of a share of them (`rate_callback_loss`) are never sent.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from campaigns.telesign.limits import FALLBACK_TIME_DEFAULT, MAX_PAYLOAD_BYTES

from .messages import MessageRecord
from .reports import delivery_report, new_reference_id
from .scenarios import Step
from .state import SandboxState
from .validation import CheckedRequest, Rejected, credentials_problem, validate_request


@dataclass(frozen=True)
class Answer:
    http_status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    # Accepted, then no answer in time: the client cannot know it went out.
    hang: bool = False


def status_body(code: int, description: str, external_id, **extra) -> dict:
    """Telesign's answer shape: status code and description, external_id."""
    return {
        "status": {"code": code, "description": description},
        "external_id": external_id,
        **extra,
    }


def omnichannel_answer(state: SandboxState, headers, body: bytes) -> Answer:
    """Check, record and answer one request; plan its callbacks if accepted."""
    config = state.config
    if config.latency_ms:
        time.sleep(config.latency_ms / 1000)
    entry = {"at": time.time(), "external_id": None, "phone": None, "code": None}
    try:
        payload = _authenticated_json(state, headers, body)
    except Rejected as exc:
        return _refused(state, entry, exc)
    try:
        request = validate_request(payload)
    except Rejected as exc:
        entry["external_id"] = _echoed_external_id(payload)
        return _refused(state, entry, exc, entry["external_id"])
    entry.update(external_id=request.external_id, phone=request.phone)

    roll = state.random.random()
    if roll < config.rate_429:
        limited = Rejected(3204, http_status=429, headers={"Retry-After": "1"})
        return _refused(state, entry, limited, request.external_id)
    if roll < config.rate_429 + config.rate_5xx:
        outage = Rejected(3500, http_status=503)
        return _refused(state, entry, outage, request.external_id)

    reference_id = new_reference_id()
    dropped = state.callbacks_lost()
    entry.update(code=3001, http_status=200, reference_id=reference_id)
    if dropped:
        entry["callbacks_dropped"] = True
    state.record(entry)
    MessageCallbacks(
        state, payload, request, reference_id, callbacks_dropped=dropped
    ).plan()
    hang = roll < (config.rate_429 + config.rate_5xx + config.rate_timeout_after_accept)
    return Answer(
        200,
        status_body(
            3001,
            "Message in progress",
            request.external_id,
            reference_id=reference_id,
        ),
        hang=hang,
    )


def _authenticated_json(state: SandboxState, headers, body: bytes):
    problem = credentials_problem(state.config, headers, body)
    if problem:
        raise Rejected(problem, http_status=401)
    if len(body) > MAX_PAYLOAD_BYTES:
        raise Rejected(3116)
    try:
        return json.loads(body)
    except ValueError:
        raise Rejected(3110) from None


def _echoed_external_id(payload) -> str | None:
    external_id = payload.get("external_id") if isinstance(payload, dict) else None
    return external_id if isinstance(external_id, str) else None


def _refused(state, entry: dict, exc: Rejected, external_id=None) -> Answer:
    entry.update(code=exc.code, http_status=exc.http_status)
    state.record(entry)
    return Answer(
        exc.http_status,
        status_body(exc.code, exc.description, external_id),
        exc.headers,
    )


class MessageCallbacks:
    """Remembers one accepted message and schedules its delivery reports."""

    def __init__(
        self,
        state: SandboxState,
        payload: dict,
        request: CheckedRequest,
        reference_id: str,
        *,
        callbacks_dropped: bool = False,
    ):
        self.state = state
        viber = payload["message"].get("viber") or {}
        self.record = MessageRecord(
            reference_id=reference_id,
            external_id=request.external_id,
            channels=request.channels,
            digit=int(request.phone[-1]),
            image_url=(viber.get("parameters") or {}).get("url", ""),
            fallback_time=_viber_fallback_time(payload),
        )
        state.message_add(self.record, callbacks_dropped=callbacks_dropped)
        self.sends_callbacks = state.config.callbacks_enabled and not callbacks_dropped
        self.callback_url = payload.get("callback_url") or state.config.callback_url

    def plan(self) -> None:
        """Schedule the callbacks (unless they are off or lost: the outcome is
        then planned when the status is first asked for)."""
        if not self.sends_callbacks:
            return
        if "viber" not in self.record.channels:
            steps = self.record.steps_with(image_ok=True)
            self._schedule(datetime.now(UTC), time.monotonic(), steps)
            return
        # Fetching the image takes time; the request is answered meanwhile.
        threading.Thread(target=self._plan_viber, daemon=True).start()

    def _plan_viber(self) -> None:
        url = self.record.image_url
        image_ok = self.state.images.usable(url) if url else False
        steps = self.record.steps_with(image_ok=image_ok)
        self._schedule(datetime.now(UTC), time.monotonic(), steps)

    def _schedule(self, start: datetime, start_monotonic: float, steps: list[Step]):
        self.record.planned(start, start_monotonic, steps)
        for step in steps:
            # Dated when it is posted: a report from the future would skew
            # every delivery time the app measures.
            real_delay = step.delay * self.state.config.time_scale
            report = delivery_report(
                reference_id=self.record.reference_id,
                external_id=self.record.external_id,
                references=self.record.references,
                viber_code=step.viber_code,
                sms_code=step.sms_code,
                at=start + timedelta(seconds=real_delay),
            )
            self.state.callback_schedule(real_delay, report, self.callback_url)


def _viber_fallback_time(payload: dict) -> int:
    return next(
        (
            channel.get("fallback_time", FALLBACK_TIME_DEFAULT)
            for channel in payload["channels"]
            if channel["channel"] == "viber"
        ),
        FALLBACK_TIME_DEFAULT,
    )
