"""Receiving a callback request: refuse, or store (and apply) it, and say what
happened.

`callback_request_receive` (and the two steps it ends with, `callback_receive`
and `callback_store`) returns what became of the request as a
`CallbackReceived` value; the API view decides the HTTP answer to each
outcome. The size and the signature are checked on the raw bytes before
anything is parsed; a refused request is counted, never stored. A signed one
is always stored, whatever its content: what cannot be read is kept, marked
failed with the reason. An identical body is stored once; each further copy
is counted on it and answered as the first was.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from django.db import DataError, transaction
from django.db.models import F
from django.utils import timezone

from ...db.callback_events import callback_event_insert, callback_event_store_once
from ...models import CallbackEvent, CallbackRejection
from ...telesign.callbacks import (
    CallbackNotJSONError,
    CallbackShapeError,
    InboundReply,
    parse_callback_body,
    storable,
)
from ...telesign.config import callback_credentials, sandbox_refused
from ...telesign.signing import callback_signature_valid
from .apply import event_describe, event_failed, parsed_callback_apply
from .batch import orphans_recheck

logger = logging.getLogger(__name__)

EVENT = CallbackEvent.Processing
STORED_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Forwarded-For")
SIGNATURE_HEADERS = ("Authorization", "X-TS-Authorization")


class CallbackOutcome(StrEnum):
    """What became of a callback request."""

    APPLIED = "applied"  # stored and applied to its recipient
    STORED = "stored"  # stored; the batch applier applies it within seconds
    APPLY_FAILED = "apply_failed"  # stored, applying failed: kept to reprocess
    ORPHAN = "orphan"  # stored; no recipient has its reference (yet)
    NOT_JSON = "not_json"  # stored, marked failed
    BAD_SHAPE = "bad_shape"  # stored, marked failed
    # Refused before parsing, counted under these names, never stored:
    TOO_LARGE = "too_large"
    MISSING_SIGNATURE = "missing_signature"
    BAD_SIGNATURE = "bad_signature"
    # Signed with the sandbox's public key where sandbox mode is refused.
    SANDBOX_REFUSED = "sandbox_refused"


# What a further copy of a stored body is answered: what its first copy became.
COPY_OUTCOMES = {
    EVENT.RECEIVED: CallbackOutcome.STORED,
    EVENT.APPLIED: CallbackOutcome.APPLIED,
    EVENT.IGNORED: CallbackOutcome.APPLIED,
    EVENT.ORPHAN: CallbackOutcome.ORPHAN,
    EVENT.FAILED: CallbackOutcome.APPLY_FAILED,
}


@dataclass(frozen=True)
class CallbackReceived:
    outcome: CallbackOutcome
    # The stored event (None when refused, or when stored by the one-statement
    # INSERT for the batch applier).
    event: CallbackEvent | None = None
    # NOT_JSON: the decoder's message. BAD_SHAPE: the problem of each field.
    error: str = ""
    fields: dict[str, str] = field(default_factory=dict)


# --- Refusing -------------------------------------------------------------------


def callback_request_receive(
    *,
    method: str,
    headers,
    declared_length: int,
    read_body: Callable[[], bytes],
    remote_addr: str = "",
) -> CallbackReceived:
    """Check a callback request's size and signature, then store (and, unless
    deferred, apply) it.

    `read_body` is called only if the declared length is within the limit, so
    an oversized body is never read.
    """
    limit = settings.CALLBACK_MAX_BODY_BYTES
    if declared_length > limit:
        return _refused(CallbackOutcome.TOO_LARGE, remote_addr)
    signed = any(headers.get(name) for name in SIGNATURE_HEADERS)
    if signed and sandbox_refused():
        return _refused(CallbackOutcome.SANDBOX_REFUSED, remote_addr)
    body = read_body()
    if len(body) > limit:
        return _refused(CallbackOutcome.TOO_LARGE, remote_addr)
    signature = callback_authenticate(headers=headers, body=body)
    if signature is None:
        refused = CallbackOutcome.MISSING_SIGNATURE
        if signed:
            refused = CallbackOutcome.BAD_SIGNATURE  # signed, but not validly
        return _refused(refused, remote_addr)
    return callback_receive(
        method=method, headers=headers, body=body, signature=signature
    )


def _refused(outcome: CallbackOutcome, remote_addr: str) -> CallbackReceived:
    callback_rejection_count(reason=outcome.value, remote_addr=remote_addr)
    return CallbackReceived(outcome)


def callback_authenticate(*, headers, body: bytes) -> str | None:
    """Return the CallbackEvent.Signature verdict, or None if the request is refused.

    Verifies the raw bytes before anything is parsed.
    """
    header = headers.get("Authorization") or headers.get("X-TS-Authorization") or ""
    if not header:
        if settings.TELESIGN_CALLBACKS_ALLOW_UNSIGNED:
            return CallbackEvent.Signature.UNSIGNED_ALLOWED
        return None
    customer_id, api_keys = callback_credentials()
    if callback_signature_valid(
        body=body, header=header, customer_id=customer_id, api_keys=api_keys
    ):
        return CallbackEvent.Signature.VALID
    return None


def callback_rejection_count(*, reason: str, remote_addr: str = "") -> None:
    """Count a refused callback per day and reason; never stores its body."""
    now = timezone.now()
    updated = CallbackRejection.objects.filter(day=now.date(), reason=reason).update(
        count=F("count") + 1, last_at=now, last_remote_addr=remote_addr[:64]
    )
    if not updated:
        CallbackRejection.objects.get_or_create(
            day=now.date(),
            reason=reason,
            defaults={"count": 1, "last_at": now, "last_remote_addr": remote_addr[:64]},
        )


# --- Storing --------------------------------------------------------------------


def _relevant_headers(headers) -> dict[str, str]:
    """The headers worth keeping with a stored callback."""
    kept = {
        name: storable(headers.get(name))
        for name in STORED_HEADERS
        if headers.get(name)
    }
    for name in SIGNATURE_HEADERS:
        value = headers.get(name) or ""
        if value:
            # Keep who signed, not the signature itself.
            kept[name] = storable(value.split(":", 1)[0][:80])
    return kept


def _received(*, method: str, headers, body: bytes, signature: str) -> CallbackEvent:
    """The unsaved event of an authenticated request, as it came."""
    return CallbackEvent(
        method=method[:8],
        headers=_relevant_headers(headers),
        raw_body=body,
        body_sha256=CallbackEvent.body_digest(body),
        signature=signature,
    )


def callback_event_store(
    *, method: str, headers, body: bytes, signature: str
) -> CallbackEvent:
    """Store an authenticated request as it came, before anything else; if its
    body is stored already, count one more copy of it instead (the event
    returned is then the stored one, with received_count > 1)."""
    return callback_event_store_once(
        _received(method=method, headers=headers, body=body, signature=signature)
    )


def _unreadable(
    event: CallbackEvent, exc: CallbackNotJSONError | CallbackShapeError
) -> CallbackReceived:
    """Mark a stored event whose body does not parse failed, with the reason
    (its first copy only: a further one was marked so already)."""
    if isinstance(exc, CallbackNotJSONError):
        if event.received_count == 1:
            event_failed(event, f"The body is not JSON: {exc}")
        return CallbackReceived(CallbackOutcome.NOT_JSON, event, error=str(exc))
    if event.received_count == 1:
        event_failed(event, f"Unexpected shape: {exc}")
    return CallbackReceived(CallbackOutcome.BAD_SHAPE, event, fields=exc.errors)


def callback_receive(
    *, method: str, headers, body: bytes, signature: str
) -> CallbackReceived:
    """Store an authenticated callback, then apply it, in one transaction: the
    apply step runs in a savepoint, so if it fails the event is still kept
    (marked failed) while its partial effects are undone.

    With CALLBACK_APPLY=deferred it is only stored (`callback_store`).
    """
    if settings.CALLBACK_APPLY == "deferred":
        return callback_store(
            method=method, headers=headers, body=body, signature=signature
        )
    with transaction.atomic():
        event = callback_event_store(
            method=method, headers=headers, body=body, signature=signature
        )
        try:
            parsed = parse_callback_body(body)
        except (CallbackNotJSONError, CallbackShapeError) as exc:
            return _unreadable(event, exc)
        if event.received_count > 1:
            # Applied (or not) when its first copy came: changes nothing now.
            return CallbackReceived(COPY_OUTCOMES[event.processing], event)
        processing = parsed_callback_apply(event=event, parsed=parsed)
    if processing == EVENT.ORPHAN:
        if orphans_recheck(events=[event]):
            return CallbackReceived(CallbackOutcome.APPLIED, event)
        return CallbackReceived(CallbackOutcome.ORPHAN, event)
    if processing == EVENT.FAILED:
        return CallbackReceived(CallbackOutcome.APPLY_FAILED, event)
    return CallbackReceived(CallbackOutcome.APPLIED, event)


def callback_store(
    *, method: str, headers, body: bytes, signature: str
) -> CallbackReceived:
    """Store an authenticated callback for the batch applier, in one statement.

    Bad input is kept, marked failed, exactly as when applying at once; a good
    one costs one prepared INSERT (a further copy of a stored body only counts
    on it), which also tells whether a recipient has its reference or external
    id (if none does, the event is an orphan for now).
    """
    request = {"method": method, "headers": headers, "body": body}
    try:
        parsed = parse_callback_body(body)
    except (CallbackNotJSONError, CallbackShapeError) as exc:
        return _unreadable(callback_event_store(**request, signature=signature), exc)
    # Described as the inline path describes it; only the writing differs.
    event = _received(**request, signature=signature)
    event.kind = CallbackEvent.Kind.INBOUND
    if not isinstance(parsed, InboundReply):
        event_describe(event, parsed)
    try:
        known = callback_event_insert(event)
    except (DataError, ValueError, OverflowError) as exc:
        # A value the parser let through that a column refuses: keep the body.
        logger.exception("a callback could not be stored as read")
        event = callback_event_store(**request, signature=signature)
        event_failed(event, f"Could not be stored as read: {exc!r}")
        return CallbackReceived(CallbackOutcome.APPLY_FAILED, event)
    if event.kind == CallbackEvent.Kind.INBOUND or known:
        return CallbackReceived(CallbackOutcome.STORED)
    return CallbackReceived(CallbackOutcome.ORPHAN)
