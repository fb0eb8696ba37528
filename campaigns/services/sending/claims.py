"""Claims: which worker may send which recipient, and getting them back.

Exactly once per recipient: a worker claims recipients in one transaction
(`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers),
reserves send slots and marks each one in flight only as its request leaves
(`slots`), and records the answer only while it still holds the claim
(`results`). A claim left behind by a dead worker expires: a recipient that
was only claimed is queued again (or marked not sent if its campaign was
cancelled), one that was in flight becomes `unconfirmed` (Telesign may have
it), which only a callback or reconciling (`reconcile`) resolves.
"""

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ...models import Campaign, Contact, Recipient
from ...quiet_hours import phone_time_zone, send_window_opens_at

logger = logging.getLogger(__name__)

RS = Recipient.SendStatus


def worker_identity() -> str:
    """Names this worker process in claims: host, pid and a random suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class ClaimedRecipient:
    id: int
    phone: str
    external_id: str
    contact: Contact | None
    send_attempts: int = 0


def recipients_due(*, campaign_id: int, now: datetime) -> QuerySet[Recipient]:
    """The campaign's recipients waiting to be sent whose time has come (not
    held back by a retry delay or their quiet hours)."""
    return Recipient.objects.filter(
        campaign_id=campaign_id, send_status=RS.QUEUED, is_test=False
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def recipients_claim(
    *, campaign: Campaign, worker_id: str, limit: int, now: datetime | None = None
) -> list[ClaimedRecipient]:
    """Atomically take up to `limit` due recipients of a sending campaign."""
    now = now or timezone.now()
    with transaction.atomic():
        due = (
            recipients_due(campaign_id=campaign.pk, now=now)
            .order_by("id")
            .select_for_update(skip_locked=True)
        )
        ids = list(due.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        Recipient.objects.filter(id__in=ids).update(
            send_status=RS.CLAIMED, claimed_by=worker_id, claimed_at=now
        )
    rows = (
        Recipient.objects.filter(id__in=ids, claimed_by=worker_id)
        .select_related("contact")
        .order_by("id")
        .only(
            "id",
            "phone",
            "external_id",
            "send_attempts",
            "contact__name",
            "contact__attributes",
            "contact__phone",
            "contact__opted_out_at",
        )
    )
    claimed, opted_out = [], []
    for r in rows:
        if r.contact is not None and r.contact.opted_out_at is not None:
            opted_out.append(r.id)
        else:
            claimed.append(
                ClaimedRecipient(
                    r.id, r.phone, r.external_id, r.contact, r.send_attempts
                )
            )
    if opted_out:
        # Opted out (e.g. replied STOP) after the launch: never message them.
        Recipient.objects.filter(id__in=opted_out).update(
            send_status=RS.SKIPPED,
            outcome=Recipient.Outcome.SUPPRESSED,
            suppression_reason=Recipient.SuppressionReason.OPTED_OUT,
            claimed_by="",
            claimed_at=None,
        )
    return claimed


def recipients_claim_sendable(
    *, campaign: Campaign, worker_id: str, limit: int, now: datetime | None = None
) -> list[ClaimedRecipient]:
    """Claim due recipients, giving back those in their quiet hours, until some
    can be sent now or none is due."""
    now = now or timezone.now()
    while True:
        claimed = recipients_claim(
            campaign=campaign, worker_id=worker_id, limit=limit, now=now
        )
        if not claimed or not campaign.has_send_window:
            return claimed
        ready = _hold_outside_send_window(campaign=campaign, claimed=claimed, now=now)
        if ready:
            return ready


def _hold_outside_send_window(
    *, campaign: Campaign, claimed: list[ClaimedRecipient], now: datetime
) -> list[ClaimedRecipient]:
    """Give back recipients for whom it is quiet hours, due when their window opens."""
    ready, waiting = [], {}
    for recipient in claimed:
        opens = send_window_opens_at(
            now=now,
            zone=phone_time_zone(recipient.phone),
            start=campaign.send_window_start,
            end=campaign.send_window_end,
        )
        if opens is None:
            ready.append(recipient)
        else:
            waiting.setdefault(opens, []).append(recipient.id)
    for opens, ids in waiting.items():
        Recipient.objects.filter(id__in=ids).update(
            send_status=RS.QUEUED, claimed_by="", claimed_at=None, next_attempt_at=opens
        )
    return ready


def _give_back(rows: QuerySet[Recipient]) -> int:
    """Recipients that never left, given back: queued again, or marked not
    sent when their campaign was cancelled meanwhile (nobody stays pending in
    a cancelled campaign). `rows` must filter on the status being left, so the
    second update cannot touch what the first one changed."""
    cancelled = rows.filter(campaign__status=Campaign.Status.CANCELLED).update(
        send_status=RS.CANCELLED,
        outcome=Recipient.Outcome.CANCELLED,
        claimed_by="",
        claimed_at=None,
    )
    queued = rows.update(send_status=RS.QUEUED, claimed_by="", claimed_at=None)
    return cancelled + queued


def recipients_release(*, ids: list[int], worker_id: str) -> int:
    """Give unsent claims back (pause, shutdown, cancel)."""
    return _give_back(
        Recipient.objects.filter(
            id__in=ids, claimed_by=worker_id, send_status=RS.CLAIMED
        )
    )


def recipients_unsent_release(*, ids: list[int], worker_id: str) -> int:
    """Give back recipients marked in flight whose request never left (a stop
    came first): nothing reached Telesign."""
    return _give_back(
        Recipient.objects.filter(
            id__in=ids, claimed_by=worker_id, send_status=RS.IN_FLIGHT
        )
    )


def claims_expire(*, older_than: float | None = None) -> tuple[int, int]:
    """Recover claims of dead workers: (queued again, marked unconfirmed)."""
    timeout = settings.SEND_CLAIM_TIMEOUT if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=timeout)
    requeued = _give_back(
        Recipient.objects.filter(send_status=RS.CLAIMED, claimed_at__lt=cutoff)
    )
    # In flight means its request had left (or was leaving): dated then, so
    # that reconciling waits for its callbacks from that moment.
    unconfirmed = Recipient.objects.filter(
        send_status=RS.IN_FLIGHT, claimed_at__lt=cutoff
    ).update(
        send_status=RS.UNCONFIRMED,
        sent_at=F("claimed_at"),
        status_description="The worker stopped while sending; Telesign may have "
        "accepted the message.",
    )
    if requeued or unconfirmed:
        logger.warning(
            "expired claims: %s queued again, %s unconfirmed", requeued, unconfirmed
        )
    return requeued, unconfirmed
