"""Answers `GET /v1/omnichannel/{reference_id}` as Telesign does.

The order: credentials (as for a send: Basic, or digest signing the GET with
no body and this path), then the fault knobs (429/3204, 503/3041), then the
reference: 3311 (HTTP 400) when malformed or unknown, -10004 (HTTP 404) when
older than Telesign's 12 hours (times `time_scale`), else the message's
current status in the shape of its callbacks.
"""

import re
import time

from campaigns.telesign.status import (
    BAD_REFERENCE,
    RATE_LIMITED,
    REFERENCE_EXPIRED,
    REFERENCE_LIFETIME_SECONDS,
    STATUS_UNAVAILABLE,
)

from .omnichannel import Answer
from .state import SandboxState
from .validation import Rejected, credentials_problem

REFERENCE_PATTERN = re.compile(r"[0-9A-Fa-f]{32}")


def status_answer(
    state: SandboxState, headers, *, path: str, reference_id: str
) -> Answer:
    """Check, count and answer one status request."""
    config = state.config
    if config.latency_ms:
        time.sleep(config.latency_ms / 1000)
    try:
        answer = _status(state, headers, path=path, reference_id=reference_id)
    except Rejected as exc:
        answer = Answer(
            exc.http_status,
            {"status": {"code": exc.code, "description": exc.description}},
            exc.headers,
        )
    state.status_counted(answer.body["status"]["code"])
    return answer


def _status(state: SandboxState, headers, *, path: str, reference_id: str) -> Answer:
    config = state.config
    problem = credentials_problem(config, headers, b"", method="GET", path=path)
    if problem:
        raise Rejected(problem, http_status=401)
    if config.rate_429 or config.rate_5xx:
        roll = state.random.random()
        if roll < config.rate_429:
            raise Rejected(RATE_LIMITED, http_status=429, headers={"Retry-After": "1"})
        if roll < config.rate_429 + config.rate_5xx:
            raise Rejected(STATUS_UNAVAILABLE, "System unavailable", http_status=503)
    record = None
    if REFERENCE_PATTERN.fullmatch(reference_id):
        record = state.message(reference_id.upper())
    if record is None:
        raise Rejected(BAD_REFERENCE, "Invalid value for parameter reference_id")
    now = time.monotonic()
    lifetime = REFERENCE_LIFETIME_SECONDS * config.time_scale
    if record.expired(now_monotonic=now, lifetime=lifetime):
        raise Rejected(REFERENCE_EXPIRED, "ReferenceID expired.", http_status=404)
    if record.steps is None:
        # Its callbacks were never planned (switched off or dropped): plan
        # its outcome now, from when it was accepted.
        image_ok = True
        if "viber" in record.channels:
            image_ok = bool(record.image_url) and state.images.usable(record.image_url)
        record.planned(
            record.accepted_at,
            record.accepted_monotonic,
            record.steps_with(image_ok=image_ok),
        )
    body = record.status_body(now_monotonic=now, time_scale=config.time_scale)
    return Answer(200, body)
