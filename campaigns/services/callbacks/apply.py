"""Applying one stored callback event: a delivery or read report, or a reply.

The merge itself is in `merge` (pure rules); here the recipient is found and
locked, and what changed is written.
"""

import logging

from django.db import transaction

from ...db.channel_attempts import channel_attempts_upsert
from ...models import CallbackEvent, Recipient
from ...telesign.callbacks import (
    CallbackNotJSONError,
    CallbackShapeError,
    DeliveryReport,
    InboundReply,
    parse_callback_body,
    storable,
)
from . import merge
from .replies import inbound_reply_apply

logger = logging.getLogger(__name__)

EVENT = CallbackEvent.Processing

# What applying a report describes on its event, for the admin's filters.
EVENT_FIELDS = ["kind", "reference_id", "external_id", "status_code"]


def event_failed(event: CallbackEvent, error: str) -> None:
    """Keep the event, marked failed with the reason, for reprocessing."""
    event.processing = EVENT.FAILED
    event.error = storable(error[:2000])  # exception texts may quote the payload
    event.save(update_fields=["processing", "error"])


def event_describe(event: CallbackEvent, report: DeliveryReport) -> None:
    """Copy what the admin filters and searches on from the report to the event
    (an answer to our status check stays one)."""
    if event.kind != CallbackEvent.Kind.STATUS_CHECK:
        event.kind = (
            CallbackEvent.Kind.READ if report.is_read else CallbackEvent.Kind.DELIVERY
        )
    event.reference_id = report.reference_id or ""
    event.external_id = report.external_id or ""
    event.status_code = report.code


def callback_event_apply(*, event: CallbackEvent) -> str:
    """Apply one stored event from its raw body; returns its new processing state.

    Raises CallbackShapeError (after marking the event failed) for payloads of
    the wrong shape. Any other error marks the event failed, for reprocessing.
    """
    try:
        parsed = parse_callback_body(bytes(event.raw_body))
    except CallbackNotJSONError as exc:
        event_failed(event, f"The body is not JSON: {exc}")
        return EVENT.FAILED
    except CallbackShapeError as exc:
        event_failed(event, f"Unexpected shape: {exc}")
        raise
    return parsed_callback_apply(event=event, parsed=parsed)


def parsed_callback_apply(
    *, event: CallbackEvent, parsed: DeliveryReport | InboundReply
) -> str:
    """Apply an event whose body is already parsed, in a savepoint: if applying
    fails, its partial effects are undone and the event is marked failed."""
    try:
        with transaction.atomic():
            if isinstance(parsed, InboundReply):
                return inbound_reply_apply(event=event, reply=parsed)
            return delivery_report_apply(event=event, report=parsed)
    except Exception as exc:
        logger.exception("callback event %s could not be applied", event.pk)
        event_failed(event, f"{type(exc).__name__}: {exc}")
        return EVENT.FAILED


def _find_recipient(report: DeliveryReport) -> Recipient | None:
    locked = Recipient.objects.select_for_update().select_related("campaign")
    if report.reference_id:
        found = locked.filter(reference_id=report.reference_id).first()
        if found:
            return found
    if report.external_id:
        return locked.filter(external_id=report.external_id).first()
    return None


def delivery_report_apply(*, event: CallbackEvent, report: DeliveryReport) -> str:
    """Merge a delivery or read report into its recipient and channel attempts."""
    event_describe(event, report)
    recipient = _find_recipient(report)
    if recipient is None:
        event.processing = EVENT.ORPHAN
        event.save(update_fields=[*EVENT_FIELDS, "processing"])
        return EVENT.ORPHAN

    attempts = {a.channel: a for a in recipient.attempts.all()}
    channel_attempts_upsert(
        merge.report_merge(recipient=recipient, attempts=attempts, report=report),
        fields=merge.ATTEMPT_FIELDS,
    )
    recipient.save(update_fields=merge.RECIPIENT_CALLBACK_FIELDS)

    event.recipient = recipient
    event.processing = EVENT.APPLIED
    event.error = ""
    event.save(update_fields=[*EVENT_FIELDS, "recipient", "processing", "error"])
    return EVENT.APPLIED
