"""One message's story, step by step, and the callbacks that shaped it, for
the recipient page."""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

from ..models import CallbackEvent, Recipient


@dataclass(frozen=True)
class TimelineStep:
    at: datetime
    text: str
    url: str = ""


def recipient_callback_events(
    *, recipient: Recipient, limit: int
) -> list[CallbackEvent]:
    """The first `limit` callbacks received about `recipient`, oldest first."""
    events = CallbackEvent.objects.filter(recipient=recipient).order_by("received_at")
    return list(events[:limit])


def recipient_timeline(*, recipient: Recipient, limit: int = 200) -> list[TimelineStep]:
    """One message's story: created, sent, each channel's last status, each
    callback received and each status check answered (linked to its raw
    body), delivered, read, opted out."""
    steps = [TimelineStep(recipient.created_at, "Queued for sending")]
    if recipient.sent_at:
        steps.append(
            TimelineStep(
                recipient.sent_at,
                f"Sent to Telesign ({recipient.get_send_status_display().lower()})",
            )
        )
    for attempt in recipient.attempts.all():
        if attempt.updated_on:
            steps.append(
                TimelineStep(
                    attempt.updated_on,
                    f"{attempt.get_channel_display()}: {attempt.status_code} "
                    f"{attempt.status_description}".strip(),
                )
            )
    for event in recipient_callback_events(recipient=recipient, limit=limit):
        steps.append(
            TimelineStep(
                event.received_at,
                _event_text(event),
                reverse("admin:campaigns_callbackevent_change", args=[event.pk]),
            )
        )
    if recipient.reconciled_at:
        steps.append(
            TimelineStep(
                recipient.reconciled_at,
                "Sent again (reconciled): it was unconfirmed and no callback came",
            )
        )
    if recipient.status_check_end and recipient.status_checked_at:
        steps.append(
            TimelineStep(
                recipient.status_checked_at,
                "Status checks ended: "
                f"{recipient.get_status_check_end_display().lower()}",
            )
        )
    for at, text in (
        (recipient.delivered_at, f"Delivered ({recipient.get_outcome_display()})"),
        (recipient.read_at, "Read on Viber"),
        (recipient.opted_out_at, "Replied to opt out"),
    ):
        if at:
            steps.append(TimelineStep(at, text))
    return sorted(steps, key=lambda step: step.at)


def _event_text(event: CallbackEvent) -> str:
    code = event.status_code or "—"
    processing = event.get_processing_display()
    if event.kind == CallbackEvent.Kind.STATUS_CHECK:
        return f"Status checked with Telesign: code {code} ({processing})"
    return (
        f"Callback received: {event.get_kind_display().lower()}, "
        f"code {code} ({processing})"
    )
