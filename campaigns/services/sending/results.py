"""Telesign's answers recorded on the recipients, and what follows from them:
a later retry, callbacks that came first, an automatic pause when too many
sends fail, the campaign completed once nobody is left to send."""

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from ...db.send_results import recipients_claimed_update
from ...models import CallbackEvent, Campaign, Recipient
from ...telesign import SendResult, SendStatus
from ..callbacks import callback_orphans_apply
from .lifecycle import campaign_pause_by_engine
from .reconcile import reconciling_enabled

RS = Recipient.SendStatus
ACTIVE_SEND_STATUSES = Recipient.ACTIVE_SEND_STATUSES

# The columns each kind of answer writes (then the recipient's claim time is
# cleared), in the order `send_results_record` gives their values.
RESULT_COLUMNS = {
    "accepted": ["send_status", "reference_id", "sent_at", "send_attempts"],
    "unconfirmed": ["send_status", "sent_at", "status_description", "send_attempts"],
    "rejected": [
        "send_status",
        "sent_at",
        "outcome",
        "status_code",
        "status_description",
        "failure_reason",
        "send_attempts",
    ],
    "queued": ["send_status", "claimed_by", "next_attempt_at", "send_attempts"],
}


def _retry_delay(attempts: int) -> float:
    return min(300.0, 2.0 * (2 ** (attempts - 1))) * random.uniform(0.5, 1.0)


def send_results_record(
    *, results: list[tuple[int, SendResult]], worker_id: str, attempts: dict[int, int]
) -> list[str]:
    """Store Telesign's answers for recipients this worker still holds; returns
    the references of accepted messages.

    An accepted message only gains its reference and send bookkeeping: its
    delivery status belongs to the callbacks, which may already have arrived.
    """
    if not results:
        return []
    now = timezone.now()
    rows: dict[str, list[list]] = {group: [] for group in RESULT_COLUMNS}
    references = []
    for recipient_id, result in results:
        group, values = _result_values(
            result=result, tries_before=attempts.get(recipient_id, 0), now=now
        )
        if group == "accepted":
            references.append(result.reference_id)
        rows[group].append([*values, recipient_id, worker_id])
    # No savepoint of its own inside the send loop's transaction: one round
    # trip fewer for every few answers.
    with transaction.atomic(savepoint=False):
        for group, group_rows in rows.items():
            recipients_claimed_update(columns=RESULT_COLUMNS[group], rows=group_rows)
    return references


def _result_values(
    *, result: SendResult, tries_before: int, now: datetime
) -> tuple[str, list]:
    """The group of `RESULT_COLUMNS` an answer belongs to, and its values."""
    tries = tries_before + max(result.attempts, 1)
    description = result.description[:500]
    exhausted = (
        result.status == SendStatus.RETRY_LATER and tries >= settings.SEND_MAX_ATTEMPTS
    )
    if result.status == SendStatus.ACCEPTED:
        return "accepted", [RS.ACCEPTED, result.reference_id, now, tries]
    if result.status == SendStatus.UNCONFIRMED:
        return "unconfirmed", [RS.UNCONFIRMED, now, description, tries]
    if result.status == SendStatus.REJECTED or exhausted:
        code = f"{result.code} " if result.code else ""
        reason = (
            f"Telesign did not accept it after {tries} attempts: {description}"
            if exhausted
            else f"{code}{description}"
        )[:500]
        return "rejected", [
            RS.REJECTED,
            now,
            Recipient.Outcome.FAILED,
            result.code,
            description,
            reason,
            tries,
        ]
    # RETRY_LATER below the limit, or AUTH_FAILED: nothing was sent.
    next_attempt = None
    if result.status == SendStatus.RETRY_LATER:
        delay = max(_retry_delay(tries), result.retry_after or 0)
        next_attempt = now + timedelta(seconds=delay)
    else:
        tries = tries_before
    return "queued", [RS.QUEUED, "", next_attempt, tries]


def orphans_for_references_apply(*, references: list[str]) -> None:
    """Apply callbacks that arrived before their reference was stored."""
    if (
        references
        and CallbackEvent.objects.filter(
            processing=CallbackEvent.Processing.ORPHAN, reference_id__in=references
        ).exists()
    ):
        callback_orphans_apply(reference_ids=references)


def campaign_auto_pause_check(*, campaign_id: int, window_seconds: int = 120) -> bool:
    """Pause the campaign if too many recent sends failed; True if it paused."""
    since = timezone.now() - timedelta(seconds=window_seconds)
    recent = Recipient.objects.filter(
        campaign_id=campaign_id, is_test=False, sent_at__gte=since
    ).aggregate(
        total=Count("id"), failed=Count("id", filter=Q(send_status=RS.REJECTED))
    )
    total, failed = recent["total"], recent["failed"]
    if total < settings.AUTO_PAUSE_MIN_SENDS:
        return False
    rate = failed / total
    if rate < settings.AUTO_PAUSE_FAILURE_RATE:
        return False
    last = (
        Recipient.objects.filter(
            campaign_id=campaign_id, send_status=RS.REJECTED, sent_at__gte=since
        )
        .order_by("-sent_at")
        .values_list("failure_reason", flat=True)
        .first()
    )
    reason = (
        f"Auto-paused: {failed} of the last {total} sends failed "
        f"({rate:.0%}, threshold {settings.AUTO_PAUSE_FAILURE_RATE:.0%}). "
        f"Last error: {last}"
    )
    return campaign_pause_by_engine(campaign_id=campaign_id, reason=reason)


def campaign_complete_if_done(*, campaign_id: int) -> bool:
    """Mark a sending campaign completed once nobody is left to send (with
    reconciling on, unconfirmed recipients may still be sent again)."""
    busy_statuses = list(ACTIVE_SEND_STATUSES)
    if reconciling_enabled():
        busy_statuses.append(RS.UNCONFIRMED)
    busy = Recipient.objects.filter(
        campaign_id=campaign_id,
        is_test=False,
        send_status__in=busy_statuses,
        outcome=Recipient.Outcome.PENDING,
    ).exists()
    if busy:
        return False
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.COMPLETED, completed_at=timezone.now()
        )
    )
