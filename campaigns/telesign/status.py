"""Telesign's answer to `GET /v1/omnichannel/{reference_id}`, classified once.

The answer to "what became of this message?" is either a status report in
the shape of a delivery callback (merged exactly like one), or one of a few
meanings callers branch on: Telesign does not know the reference (3311), no
longer keeps it (-10004, after 12 hours), wants us to ask again later (429,
503, no answer), or refuses our credentials (401: also 3206, the status
endpoint not enabled for the account).
"""

import json
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

from .callbacks import DeliveryReport, delivery_payload_errors, delivery_report_from
from .codes import CodeKind, status_code_info

# Telesign keeps a message's status this long after it was sent.
REFERENCE_LIFETIME_SECONDS = 12 * 3600
BAD_REFERENCE = 3311  # "Invalid value for parameter reference_id" (HTTP 400)
REFERENCE_EXPIRED = -10004  # "ReferenceID expired." (HTTP 404)
STATUS_UNAVAILABLE = 3041  # "System unavailable" (HTTP 503) on this endpoint
RATE_LIMITED = 3204


def status_path(reference_id: str) -> str:
    """The resource path asked for (and signed, with digest auth)."""
    return "/v1/omnichannel/" + quote(reference_id, safe="")


class StatusCheck(StrEnum):
    FOUND = "found"  # a status report: merge it like a callback
    UNKNOWN_REFERENCE = "unknown_reference"  # 3311: never ask about it again
    EXPIRED = "expired"  # -10004: older than 12 hours; never ask again
    RETRY_LATER = "retry_later"  # rate limit, outage, no answer: ask later
    AUTH_FAILED = "auth_failed"  # credentials refused or feature not enabled
    UNREADABLE = "unreadable"  # an answer we cannot use: ask again later


@dataclass(frozen=True)
class StatusCheckResult:
    outcome: StatusCheck
    # FOUND: the answer as a delivery report, and its exact bytes (kept raw).
    report: DeliveryReport | None = None
    body: bytes = b""
    code: int | None = None
    description: str = ""
    http_status: int | None = None
    retry_after: float | None = None

    @property
    def problem(self) -> str:
        """What went wrong, from numbers only (safe to show anywhere: Telesign's
        texts may echo what we sent)."""
        return f"{self.outcome}: HTTP {self.http_status or '—'}, code {self.code}"


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def classify_status_answer(
    reference_id: str, http_status: int, body: bytes, headers
) -> StatusCheckResult:
    """Turn one answer about `reference_id` into a StatusCheckResult."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    status = data.get("status") if isinstance(data, dict) else None
    code = status.get("code") if isinstance(status, dict) else None
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    description = status.get("description") if isinstance(status, dict) else ""
    description = str(description or status_code_info(code).description)[:200]

    def result(outcome: StatusCheck, **found) -> StatusCheckResult:
        return StatusCheckResult(
            outcome,
            code=code,
            description=description,
            http_status=http_status,
            retry_after=_retry_after(headers.get("Retry-After")),
            **found,
        )

    if 200 <= http_status < 300:
        report = _report_about(reference_id, data)
        if report is None:
            return result(StatusCheck.UNREADABLE)
        return result(StatusCheck.FOUND, report=report, body=bytes(body))
    if code == REFERENCE_EXPIRED:
        return result(StatusCheck.EXPIRED)
    if code == BAD_REFERENCE:
        return result(StatusCheck.UNKNOWN_REFERENCE)
    if http_status == 401 or status_code_info(code).kind == CodeKind.AUTH:
        return result(StatusCheck.AUTH_FAILED)
    if http_status in (429, 503) or http_status >= 500:
        return result(StatusCheck.RETRY_LATER)
    return result(StatusCheck.UNREADABLE)


def _report_about(reference_id: str, data) -> DeliveryReport | None:
    """The answer as a delivery report about `reference_id`, or None if it is
    not a status report or is about another message."""
    if not isinstance(data, dict) or "content" in data or "user_response" in data:
        return None
    answered = data.get("reference_id")
    if answered is None:
        data = {**data, "reference_id": reference_id}
    elif not isinstance(answered, str) or answered.upper() != reference_id.upper():
        return None
    if delivery_payload_errors(data):
        return None
    return delivery_report_from(data)
