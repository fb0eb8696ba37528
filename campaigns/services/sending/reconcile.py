"""Reconciling: unconfirmed recipients that Telesign never reported on are
sent again.

A recipient is `unconfirmed` when its request may have reached Telesign but
no answer said so: its worker died while the request was on the wire, or the
answer timed out. A callback carrying its external_id settles it (the
callbacks' merge makes it accepted). When none has come long after the send,
Telesign almost surely never had it: it is queued again with the same
external_id and recorded as reconciled (its timeline, the audit trail, the
report's "Sent again" tile).

How long is long enough (`reconcile_wait`): SEND_RECONCILE_AFTER seconds when
set; by default the campaign's fallback time (Telesign's first callback on a
message that did not reach Viber comes when it runs out) plus
RECONCILE_SMS_REPORT_MARGIN. The trade-off is the operator's: a message
Telesign accepted but never called back about is sent twice; 0 turns
reconciling off (strict at-most-once, resend by hand).

A cancelled campaign sends nothing more: its unconfirmed recipients are
closed as Telesign's 3039 "final status unknown" after the same wait, so
nobody stays pending.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ...models import AuditEntry, CallbackEvent, Campaign, CampaignReport, Recipient
from ..callbacks import merge
from ..governance import audit_record
from .scheduling import send_tasks_enqueue

logger = logging.getLogger(__name__)

RS = Recipient.SendStatus
CLOSED_BECAUSE = (
    "Final status unknown: the request may have reached Telesign, no callback "
    "came, and the campaign was cancelled, so it was not sent again."
)
# Campaigns whose unconfirmed recipients are queued again (a paused one sends
# them when it resumes).
RESENDING = (Campaign.Status.SENDING, Campaign.Status.PAUSED)


@dataclass
class Reconciled:
    resent: int = 0
    closed: int = 0


def reconciling_enabled() -> bool:
    return settings.SEND_RECONCILE_AFTER != 0


def reconcile_wait(campaign: Campaign) -> timedelta:
    """How long after its send an unconfirmed recipient of `campaign` waits
    for a callback before it is sent again."""
    if settings.SEND_RECONCILE_AFTER is not None:
        return timedelta(seconds=settings.SEND_RECONCILE_AFTER)
    fallback = 0 if campaign.sms_only else campaign.fallback_time
    return timedelta(seconds=fallback + settings.RECONCILE_SMS_REPORT_MARGIN)


def recipients_unreported(*, campaign: Campaign, now: datetime) -> QuerySet[Recipient]:
    """The campaign's unconfirmed recipients sent longer than its wait ago,
    with no callback stored about them (applied or still waiting)."""
    # Three lookups, each served by one of the callback table's partial
    # indexes (by recipient; unmatched by external id; the deferred queue),
    # rather than one OR that would scan every stored callback.
    events = CallbackEvent.objects
    applied = events.filter(recipient=OuterRef("pk"))
    unmatched = events.filter(
        external_id=OuterRef("external_id"), processing__in=CallbackEvent.UNMATCHED
    )
    waiting = events.filter(
        processing=CallbackEvent.Processing.RECEIVED,
        external_id=OuterRef("external_id"),
    )
    sent_before = now - reconcile_wait(campaign)
    return Recipient.objects.filter(
        Q(sent_at__lt=sent_before) | Q(sent_at__isnull=True),
        campaign=campaign,
        is_test=False,
        send_status=RS.UNCONFIRMED,
        outcome=Recipient.Outcome.PENDING,
    ).exclude(Exists(applied) | Exists(unmatched) | Exists(waiting))


def recipients_reconcile(
    *, now: datetime | None = None, limit: int = 1000
) -> Reconciled:
    """Send again (or, in a cancelled campaign, close) the unconfirmed
    recipients no callback came for; at most `limit` per campaign per run."""
    done = Reconciled()
    if not reconciling_enabled():
        return done
    now = now or timezone.now()
    campaigns = Campaign.objects.filter(
        Exists(
            Recipient.objects.filter(
                campaign=OuterRef("pk"), send_status=RS.UNCONFIRMED, is_test=False
            )
        ),
        status__in=(*RESENDING, Campaign.Status.CANCELLED),
    )
    for campaign in campaigns:
        ids = list(
            recipients_unreported(campaign=campaign, now=now).values_list(
                "pk", flat=True
            )[:limit]
        )
        if not ids:
            continue
        if campaign.status == Campaign.Status.CANCELLED:
            done.closed += _close(campaign=campaign, ids=ids)
        else:
            done.resent += _resend(campaign=campaign, ids=ids, now=now)
    return done


def _resend(*, campaign: Campaign, ids: list[int], now: datetime) -> int:
    """Queue them again, same external_id, recorded as reconciled."""
    wait_minutes = reconcile_wait(campaign).total_seconds() / 60
    with transaction.atomic():
        count = Recipient.objects.filter(
            pk__in=ids, send_status=RS.UNCONFIRMED, outcome=Recipient.Outcome.PENDING
        ).update(
            send_status=RS.QUEUED,
            claimed_by="",
            claimed_at=None,
            next_attempt_at=None,
            reconciled_at=now,
            status_description=(
                f"Sent again: no answer or callback from Telesign within "
                f"{wait_minutes:g} min of sending."
            ),
        )
        if not count:
            return 0
        audit_record(
            actor=None,
            action=AuditEntry.Action.RECONCILED,
            campaign=campaign,
            detail=f"{count} unconfirmed recipient(s) sent again with the same "
            f"external id: no callback within {wait_minutes:g} min of sending "
            "(SEND_RECONCILE_AFTER).",
        )
        CampaignReport.objects.filter(campaign=campaign).update(stale=True)
        if campaign.status == Campaign.Status.SENDING:
            transaction.on_commit(lambda: send_tasks_enqueue(campaign_id=campaign.pk))
    logger.warning(
        "campaign %s: %s unconfirmed recipients sent again", campaign.pk, count
    )
    return count


def _close(*, campaign: Campaign, ids: list[int]) -> int:
    """Close them as final status unknown, through the callbacks' merge (a
    report that still comes wins)."""
    closed = 0
    with transaction.atomic():
        for recipient in (
            Recipient.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .filter(pk__in=ids, send_status=RS.UNCONFIRMED, outcome="pending")
        ):
            merge.final_status_unknown_merge(
                recipient=recipient,
                attempts={a.channel: a for a in recipient.attempts.all()},
                description=CLOSED_BECAUSE,
            )
            recipient.send_status = RS.UNCONFIRMED  # never reported as accepted
            recipient.save(update_fields=[*merge.RECIPIENT_CALLBACK_FIELDS])
            closed += 1
        CampaignReport.objects.filter(campaign=campaign).update(stale=True)
    return closed
