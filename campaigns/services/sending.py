"""The sending engine: launch, claim, pace, send, record; pause, resume, cancel.

Exactly once per recipient: a worker claims recipients in one transaction
(`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers),
marks each one in flight just before its request leaves, and records the
answer only while it still holds the claim. A claim left behind by a dead
worker expires: a recipient that was only claimed is queued again, one that
was in flight becomes `unconfirmed` (Telesign may have it) and is never sent
again automatically.

The campaign's rate holds across all workers: before sending, a worker
reserves send slots on the campaign row (`next_send_slot_at`, under a row
lock), one slot per message, 1/rate seconds apart, and sends each message at
its slot. Slots are reserved only for requests that can leave at once, so
nobody falls behind their slots and bursts cannot pile up.
"""

import logging
import os
import queue
import random
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.urls import reverse
from django.utils import timezone

from ..models import (
    AuditEntry,
    CallbackEvent,
    Campaign,
    Contact,
    EngineState,
    Recipient,
)
from ..phones import PhoneNumberError, phone_normalize
from ..quiet_hours import phone_time_zone, send_window_opens_at
from ..selectors import campaign_preview_contact, campaign_target_contacts
from ..sms import personalise
from ..telesign import (
    OmnichannelMessage,
    SendResult,
    SendStatus,
    TelesignClient,
    client_from_settings,
    telesign_uses_sandbox,
)
from .errors import DomainError
from .governance import Actor, audit_record, campaign_approval_problems
from .reports import campaign_reports_refresh_due

logger = logging.getLogger(__name__)

RS = Recipient.SendStatus
ACTIVE_SEND_STATUSES = Recipient.ACTIVE_SEND_STATUSES
# Slots are spaced for 90% of the maximum rate: requests leave a little late
# now and then (threads, processes sharing cores, network), and the slack keeps
# a late one and its on-time successors from crowding into one second.
RATE_HEADROOM = 0.9


def worker_identity() -> str:
    """Names this worker process in claims: host, pid and a random suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def callback_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse("telesign_callbacks")


# --- Launch ---------------------------------------------------------------------


def campaign_content_problems(*, campaign: Campaign) -> list[str]:
    """What stops the message itself from being sent, in words for a marketer."""
    problems = []
    image_url = campaign.image.public_url
    if campaign.sms_only:
        if not campaign.sms_text.strip():
            problems.append("The campaign is SMS only but its SMS text is empty.")
        return problems
    if not image_url.startswith("https://") and not telesign_uses_sandbox():
        problems.append(
            f"Viber fetches images over https only, but the image address is "
            f"{image_url}. Set PUBLIC_BASE_URL to the app's https address."
        )
    if campaign.sms_fallback_enabled and not campaign.sms_text.strip():
        problems.append("The SMS fallback is on but its text is empty.")
    return problems


def campaign_launch_problems(*, campaign: Campaign) -> list[str]:
    """Everything that stops `campaign` from launching, in words for a marketer."""
    problems = []
    if campaign.status not in Campaign.EDITABLE_STATUSES:
        problems.append(
            f"The campaign is {campaign.get_status_display().lower()}; only a draft "
            "or scheduled campaign can be launched."
        )
    problems += campaign_content_problems(campaign=campaign)
    problems += campaign_approval_problems(campaign=campaign)
    if not campaign.audiences.exists():
        problems.append("Choose at least one audience.")
    elif not campaign_target_contacts(campaign=campaign).exists():
        problems.append("The audiences have no contact that can be messaged.")
    return problems


@dataclass(frozen=True)
class LaunchResult:
    campaign: Campaign
    recipients: int
    suppressed: int
    duplicates: int
    scheduled: bool


def campaign_launch(
    *, campaign: Campaign, now: datetime | None = None, actor: Actor | None = None
) -> LaunchResult:
    """Launch now, or schedule if `scheduled_at` is in the future.

    Raises DomainError listing what is wrong. Launching twice creates nothing
    twice: the campaign row is locked and its status checked.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # NO KEY: a parallel materialisation's foreign-key checks must not
        # wait for this lock.
        campaign = (
            Campaign.objects.select_for_update(no_key=True)
            .select_related("image")
            .get(pk=campaign.pk)
        )
        problems = campaign_launch_problems(campaign=campaign)
        if problems:
            raise DomainError(" ".join(problems))
        if campaign.scheduled_at and campaign.scheduled_at > now:
            campaign.status = Campaign.Status.SCHEDULED
            campaign.status_reason = ""
            campaign.save(update_fields=["status", "status_reason", "updated_at"])
            audit_record(
                actor=actor,
                action=AuditEntry.Action.SCHEDULED,
                campaign=campaign,
                detail=f"Starts at {campaign.scheduled_at:%Y-%m-%d %H:%M %Z}.",
            )
            transaction.on_commit(engine_tick_ensure)
            return LaunchResult(campaign, 0, 0, 0, scheduled=True)
        result = _campaign_start(campaign=campaign, now=now)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.LAUNCHED,
            campaign=campaign,
            detail=f"{result.recipients} recipient(s), {result.suppressed} suppressed.",
        )
    return result


def _campaign_unschedule_by_engine(*, campaign: Campaign, problems: list[str]) -> None:
    """A scheduled campaign that can no longer launch goes back to draft,
    saying why; the caller holds the row lock."""
    campaign.status = Campaign.Status.DRAFT
    campaign.status_reason = (
        "Not started at its scheduled time: " + " ".join(problems)
    )[:500]
    campaign.save(update_fields=["status", "status_reason", "updated_at"])
    audit_record(
        actor=None,
        action=AuditEntry.Action.NOT_STARTED,
        campaign=campaign,
        detail=" ".join(problems),
    )


def _campaign_start(*, campaign: Campaign, now: datetime) -> LaunchResult:
    """Materialise recipients and start sending; the caller holds the row lock."""
    counts = recipients_materialise(campaign=campaign, now=now)
    campaign.status = Campaign.Status.SENDING
    campaign.status_reason = ""
    campaign.started_at = campaign.started_at or now
    campaign.audience_duplicates = counts["duplicates"]
    campaign.last_activity_at = now
    campaign.save(
        update_fields=[
            "status",
            "status_reason",
            "started_at",
            "audience_duplicates",
            "last_activity_at",
            "updated_at",
        ]
    )
    campaign_id = campaign.pk
    transaction.on_commit(lambda: send_tasks_enqueue(campaign_id=campaign_id))
    transaction.on_commit(engine_tick_ensure)
    logger.info("campaign %s started: %s", campaign_id, counts)
    return LaunchResult(
        campaign,
        counts["recipients"],
        counts["suppressed"],
        counts["duplicates"],
        scheduled=False,
    )


def _materialise_ranges(*, campaign: Campaign) -> list[tuple[int, int]]:
    """Contact-id ranges to materialise: one, or on PostgreSQL for a large
    audience, LAUNCH_PARALLELISM ranges of about equal size."""
    members = Contact.audiences.through.objects.filter(audience__campaigns=campaign)
    span = members.aggregate(
        low=Min("contact_id"), high=Max("contact_id"), n=Count("id")
    )
    low, high = span["low"] or 0, span["high"] or 0
    parts = settings.LAUNCH_PARALLELISM
    if (
        connection.vendor != "postgresql"
        or parts < 2
        or span["n"] < settings.LAUNCH_PARALLEL_MIN_CONTACTS
    ):
        return [(low, high)]
    step = (high - low) // parts + 1
    return [(low + i * step, min(high, low + (i + 1) * step - 1)) for i in range(parts)]


def _materialise_range(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # Let the de-duplication of a large audience stay in memory rather
            # than spill to disk; for this transaction only.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql, params)


def _materialise_in_parallel(sql: str, params: list, ranges) -> None:
    """Each range in its own connection and transaction, at the same time.

    Most of a large launch is PostgreSQL checking foreign keys and filling
    indexes row by row, which two connections do on two cores. Each range
    commits on its own; the campaign only starts sending once the caller's
    transaction commits, and a relaunch after a failure skips the rows that
    exist (ON CONFLICT DO NOTHING). The caller holds the campaign row with
    FOR NO KEY UPDATE, which these inserts' key checks do not wait for.
    """
    errors: list[BaseException] = []

    def insert(bounds):
        try:
            with transaction.atomic():
                _materialise_range(sql, [*params, *bounds])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=insert, args=(r,)) for r in ranges]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def recipients_materialise(*, campaign: Campaign, now: datetime) -> dict[str, int]:
    """Create one recipient per distinct contact of the audiences, in one statement.

    Opted-out contacts become suppressed recipients so reports can show them.
    Contacts already materialised (a relaunch after a crash) are skipped.
    """
    recipient = Recipient._meta.db_table
    contact = Contact._meta.db_table
    member = Contact.audiences.through._meta.db_table
    campaign_audiences = Campaign.audiences.through._meta.db_table
    # Zero-padded contact ids make external ids grow in the same order as the
    # rows are inserted, so every index takes them at its end.
    padded = (
        "lpad(CAST(c.id AS TEXT), 10, '0')"
        if connection.vendor == "postgresql"
        else "substr('0000000000' || c.id, -10)"
    )
    params = [campaign.pk, False, f"c{campaign.pk}-", now, campaign.pk]
    already_delivered = ""
    if campaign.follow_up_of_id:
        # A follow-up never messages anyone its original has delivered to,
        # even if that happened after the follow-up was created.
        already_delivered = f"""
        AND NOT EXISTS (
            SELECT 1 FROM {recipient} p
            WHERE p.campaign_id = %s AND p.contact_id = c.id AND p.is_test = %s
            AND p.outcome IN (%s, %s)
        )"""  # noqa: S608 - table name from model metadata
        params += [
            campaign.follow_up_of_id,
            False,
            Recipient.Outcome.VIBER_DELIVERED,
            Recipient.Outcome.SMS_DELIVERED,
        ]
    sql = f"""
        INSERT INTO {recipient} (
            campaign_id, contact_id, phone, is_test, external_id, reference_id,
            status_code, status_description, status_updated_on, last_channel,
            outcome, suppression_reason, failure_reason, send_status,
            send_attempts, next_attempt_at, claimed_by, claimed_at, sent_at,
            delivered_at, read_at, created_at
        )
        SELECT %s, c.id, c.phone, %s, %s || {padded}, NULL,
            NULL, '', NULL, '',
            CASE WHEN c.opted_out_at IS NULL THEN 'pending' ELSE 'suppressed' END,
            CASE WHEN c.opted_out_at IS NULL THEN '' ELSE 'opted_out' END,
            '',
            CASE WHEN c.opted_out_at IS NULL THEN 'queued' ELSE 'skipped' END,
            0, NULL, '', NULL, NULL, NULL, NULL, %s
        FROM {contact} c
        WHERE c.id IN (
            SELECT m.contact_id FROM {member} m
            WHERE m.audience_id IN (
                SELECT ca.audience_id FROM {campaign_audiences} ca
                WHERE ca.campaign_id = %s
            )
        ){already_delivered}
        AND c.id BETWEEN %s AND %s
        ORDER BY c.id
        ON CONFLICT DO NOTHING
    """  # noqa: S608 - table names come from model metadata, values are parameters
    ranges = _materialise_ranges(campaign=campaign)
    if len(ranges) == 1:
        _materialise_range(sql, [*params, *ranges[0]])
    else:
        _materialise_in_parallel(sql, params, ranges)
    memberships = Contact.audiences.through.objects.filter(
        audience__campaigns=campaign
    ).aggregate(total=Count("id"), distinct=Count("contact", distinct=True))
    totals = Recipient.objects.filter(campaign=campaign, is_test=False).aggregate(
        recipients=Count("id"),
        suppressed=Count("id", filter=Q(outcome=Recipient.Outcome.SUPPRESSED)),
    )
    return {
        "recipients": totals["recipients"],
        "suppressed": totals["suppressed"],
        "duplicates": memberships["total"] - memberships["distinct"],
    }


# --- Pause, resume, cancel ------------------------------------------------------


def _campaign_transition(
    *,
    campaign_id: int,
    allowed: tuple,
    to: str,
    reason: str = "",
    actor: Actor | None = None,
    action: str = "",
) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status not in allowed:
            raise DomainError(
                f"“{campaign}” is {campaign.get_status_display().lower()}; it cannot "
                f"be {Campaign.Status(to).label.lower()} from there."
            )
        campaign.status = to
        campaign.status_reason = reason
        fields = ["status", "status_reason", "updated_at"]
        if to in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED):
            campaign.completed_at = timezone.now()
            fields.append("completed_at")
        campaign.save(update_fields=fields)
        if action:
            audit_record(actor=actor, action=action, campaign=campaign, detail=reason)
    return campaign


def campaign_pause(
    *,
    campaign: Campaign,
    reason: str = "Paused by a user.",
    actor: Actor | None = None,
) -> Campaign:
    """Stop sending within seconds; claimed recipients go back to the queue."""
    return _campaign_transition(
        campaign_id=campaign.pk,
        allowed=(Campaign.Status.SENDING, Campaign.Status.SCHEDULED),
        to=Campaign.Status.PAUSED,
        reason=reason,
        actor=actor,
        action=AuditEntry.Action.PAUSED,
    )


def campaign_resume(*, campaign: Campaign, actor: Actor | None = None) -> Campaign:
    """Continue from the recipient records: whoever is still queued is sent."""
    resumed = _campaign_transition(
        campaign_id=campaign.pk,
        allowed=(Campaign.Status.PAUSED,),
        to=Campaign.Status.SENDING,
        actor=actor,
        action=AuditEntry.Action.RESUMED,
    )
    if resumed.started_at is None:
        # Paused while scheduled: start properly (materialise) now.
        Campaign.objects.filter(pk=resumed.pk).update(status=Campaign.Status.DRAFT)
        return campaign_launch(campaign=resumed, actor=actor).campaign
    transaction.on_commit(lambda: send_tasks_enqueue(campaign_id=resumed.pk))
    return resumed


def campaign_cancel(*, campaign: Campaign, actor: Actor | None = None) -> Campaign:
    """Stop for good; recipients not yet sent are marked as not sent."""
    with transaction.atomic():
        cancelled = _campaign_transition(
            campaign_id=campaign.pk,
            allowed=(
                Campaign.Status.DRAFT,
                Campaign.Status.SCHEDULED,
                Campaign.Status.SENDING,
                Campaign.Status.PAUSED,
            ),
            to=Campaign.Status.CANCELLED,
            reason="Cancelled by a user.",
            actor=actor,
            action=AuditEntry.Action.CANCELLED,
        )
        Recipient.objects.filter(
            campaign=cancelled, is_test=False, send_status__in=(RS.QUEUED, RS.CLAIMED)
        ).update(
            send_status=RS.CANCELLED,
            outcome=Recipient.Outcome.CANCELLED,
            claimed_by="",
            claimed_at=None,
        )
    return cancelled


# --- Claims -----------------------------------------------------------------------


@dataclass
class ClaimedRecipient:
    id: int
    phone: str
    external_id: str
    contact: Contact | None
    send_attempts: int = 0


def recipients_claim(
    *, campaign: Campaign, worker_id: str, limit: int, now: datetime | None = None
) -> list[ClaimedRecipient]:
    """Atomically take up to `limit` due recipients of a sending campaign."""
    now = now or timezone.now()
    with transaction.atomic():
        due = (
            Recipient.objects.filter(
                campaign_id=campaign.pk, send_status=RS.QUEUED, is_test=False
            )
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
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


def recipients_release(*, ids: list[int], worker_id: str) -> int:
    """Give unsent claims back to the queue (pause, shutdown)."""
    return Recipient.objects.filter(
        id__in=ids, claimed_by=worker_id, send_status=RS.CLAIMED
    ).update(send_status=RS.QUEUED, claimed_by="", claimed_at=None)


def recipients_unsent_release(*, ids: list[int], worker_id: str) -> int:
    """Give back recipients marked in flight whose request never left (a stop
    came first): they are queued again, as nothing reached Telesign."""
    return Recipient.objects.filter(
        id__in=ids, claimed_by=worker_id, send_status=RS.IN_FLIGHT
    ).update(send_status=RS.QUEUED, claimed_by="", claimed_at=None)


def claims_expire(*, older_than: float | None = None) -> tuple[int, int]:
    """Recover claims of dead workers: (queued again, marked unconfirmed)."""
    timeout = settings.SEND_CLAIM_TIMEOUT if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=timeout)
    requeued = Recipient.objects.filter(
        send_status=RS.CLAIMED, claimed_at__lt=cutoff
    ).update(send_status=RS.QUEUED, claimed_by="", claimed_at=None)
    unconfirmed = Recipient.objects.filter(
        send_status=RS.IN_FLIGHT, claimed_at__lt=cutoff
    ).update(
        send_status=RS.UNCONFIRMED,
        status_description="The worker stopped while sending; Telesign may have "
        "accepted the message.",
    )
    if requeued or unconfirmed:
        logger.warning(
            "expired claims: %s queued again, %s unconfirmed", requeued, unconfirmed
        )
    return requeued, unconfirmed


# --- Pacing -----------------------------------------------------------------------


def recipients_prepare_sending(
    *, campaign_id: int, ids: list[int], worker_id: str
) -> tuple[str, datetime, float, list[int]]:
    """Reserve send slots and mark recipients in flight, in one transaction.

    Returns (campaign status, first slot, gap between slots, ids to send in
    slot order). Nothing is prepared unless the campaign is still sending. The
    campaign row lock makes every worker's slots disjoint, which is what keeps
    the campaign's rate across workers and machines.
    """
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update()
            .only("status", "max_send_rate", "next_send_slot_at")
            .get(pk=campaign_id)
        )
        # Read the clock once the lock is ours: a time taken before waiting for
        # it could start this group's slots in the past, and late slots leave
        # together.
        now = timezone.now()
        if campaign.status != Campaign.Status.SENDING or not ids:
            return campaign.status, now, 0.0, []
        gap = 1.0 / (campaign.max_send_rate * RATE_HEADROOM)
        start = max(now, campaign.next_send_slot_at or now)
        # The claim is dated when the last of them leaves, so that recovering
        # dead workers' claims never takes one that is only waiting its turn.
        leaves_by = start + timedelta(seconds=gap * len(ids))
        marked = Recipient.objects.filter(
            id__in=ids, claimed_by=worker_id, send_status=RS.CLAIMED
        ).update(send_status=RS.IN_FLIGHT, claimed_at=leaves_by)
        leaving = ids
        if marked != len(ids):  # some claims expired meanwhile: not ours to send
            still_ours = set(
                Recipient.objects.filter(
                    id__in=ids, claimed_by=worker_id, send_status=RS.IN_FLIGHT
                ).values_list("id", flat=True)
            )
            leaving = [i for i in ids if i in still_ours]
        Campaign.objects.filter(pk=campaign_id).update(
            next_send_slot_at=start + timedelta(seconds=gap * len(leaving)),
            last_activity_at=now,
        )
    return Campaign.Status.SENDING, start, gap, leaving


# --- Recording answers -------------------------------------------------------------


def _retry_delay(attempts: int) -> float:
    return min(300.0, 2.0 * (2 ** (attempts - 1))) * random.uniform(0.5, 1.0)


# The columns each kind of answer writes. Answers are written with one
# prepared UPDATE run for many rows (executemany), which costs a fraction of
# `bulk_update`'s giant CASE expression; `claimed_by = worker` in the WHERE
# clause skips any recipient whose claim expired and went to another worker.
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
    db_now = connection.ops.adapt_datetimefield_value(now)
    rows: dict[str, list[list]] = {group: [] for group in RESULT_COLUMNS}
    references = []
    for recipient_id, result in results:
        tries = attempts.get(recipient_id, 0) + max(result.attempts, 1)
        description = result.description[:500]
        exhausted = (
            result.status == SendStatus.RETRY_LATER
            and tries >= settings.SEND_MAX_ATTEMPTS
        )
        if result.status == SendStatus.ACCEPTED:
            references.append(result.reference_id)
            values = ("accepted", [RS.ACCEPTED, result.reference_id, db_now, tries])
        elif result.status == SendStatus.UNCONFIRMED:
            values = ("unconfirmed", [RS.UNCONFIRMED, db_now, description, tries])
        elif result.status == SendStatus.REJECTED or exhausted:
            code = f"{result.code} " if result.code else ""
            reason = (
                f"Telesign did not accept it after {tries} attempts: {description}"
                if exhausted
                else f"{code}{description}"
            )[:500]
            values = (
                "rejected",
                [
                    RS.REJECTED,
                    db_now,
                    Recipient.Outcome.FAILED,
                    result.code,
                    description,
                    reason,
                    tries,
                ],
            )
        else:  # RETRY_LATER below the limit, or AUTH_FAILED: nothing was sent
            next_attempt = None
            if result.status == SendStatus.RETRY_LATER:
                delay = max(_retry_delay(tries), result.retry_after or 0)
                next_attempt = connection.ops.adapt_datetimefield_value(
                    now + timedelta(seconds=delay)
                )
            else:
                tries = attempts.get(recipient_id, 0)
            values = ("queued", [RS.QUEUED, "", next_attempt, tries])
        group, params = values
        rows[group].append([*params, recipient_id, worker_id])
    table = connection.ops.quote_name(Recipient._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        for group, params in rows.items():
            if not params:
                continue
            assignments = ", ".join(
                f"{connection.ops.quote_name(column)} = %s"
                for column in RESULT_COLUMNS[group]
            )
            cursor.executemany(
                f"UPDATE {table} SET {assignments}, claimed_at = NULL"  # noqa: S608
                " WHERE id = %s AND claimed_by = %s",
                params,
            )
    return references


def orphans_for_references_apply(*, references: list[str]) -> None:
    """Apply callbacks that arrived before their reference was stored."""
    from .callbacks import callback_orphans_apply

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
    return _campaign_pause_by_engine(campaign_id=campaign_id, reason=reason)


def _campaign_pause_by_engine(
    *, campaign_id: int, reason: str, level: int = logging.WARNING
) -> bool:
    """Pause a sending campaign without a person: logged, and in the audit
    trail as the system. False if it was no longer sending."""
    paused = Campaign.objects.filter(
        pk=campaign_id, status=Campaign.Status.SENDING
    ).update(status=Campaign.Status.PAUSED, status_reason=reason[:500])
    if paused:
        logger.log(level, "campaign %s %s", campaign_id, reason)
        audit_record(
            actor=None,
            action=AuditEntry.Action.PAUSED,
            campaign=Campaign.objects.get(pk=campaign_id),
            detail=reason,
        )
    return bool(paused)


def campaign_pause_for_credentials(*, campaign_id: int, result: SendResult) -> None:
    reason = (
        f"Paused: Telesign refused the credentials ({result.code or ''} "
        f"{result.description}). Check TELESIGN_CUSTOMER_ID and TELESIGN_API_KEY "
        "(and that the account has Viber and omnichannel enabled), then resume."
    )
    _campaign_pause_by_engine(
        campaign_id=campaign_id, reason=reason, level=logging.ERROR
    )


def campaign_complete_if_done(*, campaign_id: int) -> bool:
    """Mark a sending campaign completed once nobody is left to send."""
    busy = Recipient.objects.filter(
        campaign_id=campaign_id, is_test=False, send_status__in=ACTIVE_SEND_STATUSES
    ).exists()
    if busy:
        return False
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.COMPLETED, completed_at=timezone.now()
        )
    )


# --- The send loop -------------------------------------------------------------------


def campaign_message(
    *, campaign: Campaign, recipient: ClaimedRecipient, send_callback_url: bool
) -> OmnichannelMessage:
    sms_text = None
    if campaign.sms_fallback_enabled or campaign.sms_only:
        sms_text = (
            personalise(campaign.sms_text, recipient.contact)
            if (recipient.contact)
            else campaign.sms_text
        )
    return OmnichannelMessage(
        phone=recipient.phone,
        external_id=recipient.external_id,
        image_url=campaign.image.public_url,
        viber_template=campaign.viber_template,
        fallback_time=campaign.fallback_time,
        sms_text=sms_text,
        message_type=campaign.message_type,
        callback_url=callback_url() if send_callback_url else None,
        viber=not campaign.sms_only,
    )


@dataclass
class SendRunSummary:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    unconfirmed: int = 0
    retried: int = 0
    stopped_because: str = ""


def _sender(
    client: TelesignClient,
    ready: queue.SimpleQueue,
    answers: queue.SimpleQueue,
    halt: threading.Event,
) -> None:
    """One sending thread: take the next prepared message, wait for its slot,
    send it, hand back the answer (None when a stop came first)."""
    while True:
        item = ready.get()
        if item is None:
            return
        recipient_id, message, due = item
        delay = due - time.monotonic()
        if halt.is_set() or (delay > 0.001 and halt.wait(delay)):
            answers.put((recipient_id, None))
            continue
        try:
            answers.put((recipient_id, client.send(message)))
        except Exception as exc:
            logger.exception("send of recipient %s crashed", recipient_id)
            answers.put(
                (recipient_id, SendResult(SendStatus.UNCONFIRMED, description=str(exc)))
            )


def campaign_send_run(
    *,
    campaign_id: int,
    worker_id: str | None = None,
    client: TelesignClient | None = None,
    concurrency: int | None = None,
    stop: threading.Event | None = None,
    max_seconds: float | None = None,
) -> SendRunSummary:
    """Send a campaign's due recipients until none is left, it stops sending,
    or `max_seconds` have passed (then `stopped_because` is "time slice used"
    and the caller queues the next slice).

    Many of these may run at once, in many processes on many machines.
    `concurrency` threads send; this thread keeps a queue of prepared messages
    (slots reserved, marked in flight) ahead of them and writes the answers, so
    the database is never on the path of a request. If the worker dies, at
    most the prepared queue, the requests on the wire and the answers not yet
    written become `unconfirmed`: about three times `concurrency`.
    """
    deadline = time.monotonic() + max_seconds if max_seconds else None
    worker_id = worker_id or worker_identity()
    concurrency = concurrency or settings.SEND_CONCURRENCY
    client = client or client_from_settings()
    stop = stop or threading.Event()
    halt = threading.Event()  # tells waiting sends not to leave
    summary = SendRunSummary()
    send_callback = settings.TELESIGN_SEND_CALLBACK_URL
    campaign = Campaign.objects.select_related("image").get(pk=campaign_id)
    # Claim about SEND_BATCH_SECONDS of work, but never far more than this
    # worker can send soon: claims are cheap to give back, not to hold.
    batch_size = max(
        concurrency,
        min(
            settings.SEND_BATCH_MAX,
            int(campaign.max_send_rate * settings.SEND_BATCH_SECONDS),
            concurrency * 8,
        ),
    )
    ready: queue.SimpleQueue = queue.SimpleQueue()  # prepared, waiting a thread
    answers: queue.SimpleQueue = queue.SimpleQueue()
    outstanding = 0  # prepared and not answered yet
    attempts: dict[int, int] = {}
    results: list[tuple[int, SendResult]] = []
    unsent: list[int] = []
    pending: deque[ClaimedRecipient] = deque()  # claimed, not prepared
    last_check = 0.0
    sent_at_last_check = 0
    new_references: list[str] = []  # checked for orphaned callbacks every second

    def apply_orphans():
        orphans_for_references_apply(references=new_references)
        new_references.clear()

    def stop_because(reason: str) -> None:
        if not summary.stopped_because:
            summary.stopped_because = reason
        halt.set()

    def flush():
        if results:
            new_references.extend(
                send_results_record(
                    results=results, worker_id=worker_id, attempts=attempts
                )
            )
            results.clear()
        if unsent:
            recipients_unsent_release(ids=unsent, worker_id=worker_id)
            unsent.clear()

    def collect(recipient_id: int, result: SendResult | None) -> None:
        nonlocal outstanding
        outstanding -= 1
        if result is None:
            unsent.append(recipient_id)
            return
        results.append((recipient_id, result))
        summary.sent += 1
        if result.status == SendStatus.ACCEPTED:
            summary.accepted += 1
        elif result.status == SendStatus.UNCONFIRMED:
            summary.unconfirmed += 1
        elif result.status == SendStatus.REJECTED:
            summary.rejected += 1
        elif result.status == SendStatus.RETRY_LATER:
            summary.retried += 1
        elif result.status == SendStatus.AUTH_FAILED:
            if not summary.stopped_because:
                campaign_pause_for_credentials(campaign_id=campaign_id, result=result)
            stop_because("credentials refused")

    def refill() -> bool:
        """Prepare the next group; False when there is nothing left to prepare."""
        nonlocal outstanding
        if not pending:
            if deadline is not None and time.monotonic() > deadline:
                stop_because("time slice used")
                return False
            claimed = recipients_claim_sendable(
                campaign=campaign, worker_id=worker_id, limit=batch_size
            )
            if not claimed:
                return False
            pending.extend(claimed)
            attempts.update((r.id, r.send_attempts) for r in claimed)
        group = [pending.popleft() for _ in range(min(concurrency, len(pending)))]
        # Answers so far and the next group share one transaction: fewer
        # round trips keep this thread ahead of the sending threads.
        with transaction.atomic():
            flush()
            status, first_slot, gap, leaving = recipients_prepare_sending(
                campaign_id=campaign_id, ids=[r.id for r in group], worker_id=worker_id
            )
        if status != Campaign.Status.SENDING:
            pending.extendleft(reversed(group))
            stop_because(f"campaign {status}")
            return True
        slot0 = time.monotonic() + max(
            0.0, (first_slot - timezone.now()).total_seconds()
        )
        by_id = {r.id: r for r in group}
        for index, recipient_id in enumerate(leaving):
            message = campaign_message(
                campaign=campaign,
                recipient=by_id[recipient_id],
                send_callback_url=send_callback,
            )
            ready.put((recipient_id, message, slot0 + index * gap))
            outstanding += 1
        return True

    threads = [
        threading.Thread(
            target=_sender,
            args=(client, ready, answers, halt),
            name=f"telesign-send-{n}",
            daemon=True,
        )
        for n in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    try:
        while True:
            if outstanding:
                try:
                    collect(*answers.get(timeout=0.05))
                    while True:
                        collect(*answers.get_nowait())
                except queue.Empty:
                    pass
            if stop.is_set():
                stop_because("worker stopping")
            if summary.stopped_because:
                if not outstanding:
                    break
                continue
            # Every second (or once enough answers came in): notice a pause or
            # cancel from elsewhere, and judge recent failures.
            if (
                time.monotonic() - last_check > 1.0
                or summary.sent - sent_at_last_check >= settings.AUTO_PAUSE_MIN_SENDS
            ):
                last_check, sent_at_last_check = time.monotonic(), summary.sent
                flush()
                apply_orphans()
                status = (
                    Campaign.objects.filter(pk=campaign_id)
                    .values_list("status", flat=True)
                    .first()
                )
                if status != Campaign.Status.SENDING:
                    stop_because(f"campaign {status}")
                    continue
                if campaign_auto_pause_check(campaign_id=campaign_id):
                    stop_because("auto-paused")
                    continue
            if outstanding <= concurrency + concurrency // 2 and not refill():
                if not outstanding:
                    if not summary.stopped_because:
                        flush()
                        campaign_complete_if_done(campaign_id=campaign_id)
                        summary.stopped_because = "nothing due"
                    break
            if len(results) >= concurrency:
                flush()
    finally:
        halt.set()  # prepared messages still waiting do not leave
        for _ in threads:
            ready.put(None)
        for thread in threads:
            thread.join()
        while True:
            try:
                collect(*answers.get_nowait())
            except queue.Empty:
                break
        while True:  # prepared but never taken by a thread
            try:
                item = ready.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                unsent.append(item[0])
        flush()
        apply_orphans()
        if pending:
            recipients_release(ids=[r.id for r in pending], worker_id=worker_id)
    logger.info("campaign %s worker %s: %s", campaign_id, worker_id, summary)
    return summary


# --- Tasks plumbing -------------------------------------------------------------------


def send_tasks_enqueue(*, campaign_id: int, copies: int | None = None) -> int:
    """Queue the send loop for this campaign, once per worker expected to help."""
    from ..tasks import campaign_send_task

    copies = copies or settings.SEND_TASKS_PER_CAMPAIGN
    for _ in range(copies):
        campaign_send_task.enqueue(campaign_id)
    return copies


def engine_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic housekeeping: start due scheduled campaigns, recover dead
    workers' claims, restart stalled sending, complete finished campaigns."""
    now = now or timezone.now()
    started = 0
    for campaign in Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, scheduled_at__lte=now
    ).only("id"):
        with transaction.atomic():
            locked = (
                Campaign.objects.select_for_update(no_key=True)
                .select_related("image")
                .get(pk=campaign.pk)
            )
            if locked.status != Campaign.Status.SCHEDULED:
                continue
            # What was true when it was scheduled may not be any more (its
            # approval withdrawn, its audiences emptied, its image removed).
            problems = campaign_launch_problems(campaign=locked)
            if problems:
                _campaign_unschedule_by_engine(campaign=locked, problems=problems)
                continue
            _campaign_start(campaign=locked, now=now)
            started += 1
    requeued, unconfirmed = claims_expire()
    restarted = completed = 0
    stall = timedelta(seconds=max(10.0, 3 * settings.SEND_BATCH_SECONDS))
    for campaign in Campaign.objects.filter(status=Campaign.Status.SENDING).only(
        "id", "last_activity_at"
    ):
        due = Recipient.objects.filter(
            campaign_id=campaign.pk, send_status=RS.QUEUED, is_test=False
        ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        if due.exists():
            if not campaign.last_activity_at or campaign.last_activity_at < now - stall:
                Campaign.objects.filter(pk=campaign.pk).update(last_activity_at=now)
                send_tasks_enqueue(campaign_id=campaign.pk)
                restarted += 1
        elif campaign_complete_if_done(campaign_id=campaign.pk):
            completed += 1
    if settings.CALLBACK_APPLY == "deferred":
        # Workers started with run_worker apply callbacks continuously; this
        # keeps them applied whatever runs the workers.
        from .callbacks import callbacks_apply_pending

        callbacks_apply_pending(max_seconds=2.0)
    reports = campaign_reports_refresh_due(now=now)
    return {
        "started": started,
        "requeued": requeued,
        "unconfirmed": unconfirmed,
        "restarted": restarted,
        "completed": completed,
        "reports": reports,
    }


def engine_tick_claim(*, now: datetime | None = None) -> bool:
    """True if this tick may run: no other tick ran in the last interval."""
    now = now or timezone.now()
    interval = timedelta(seconds=settings.ENGINE_TICK_SECONDS * 0.8)
    EngineState.objects.get_or_create(pk=1)
    return bool(
        EngineState.objects.filter(pk=1)
        .filter(Q(last_tick_at__isnull=True) | Q(last_tick_at__lte=now - interval))
        .update(last_tick_at=now)
    )


def engine_tick_ensure() -> bool:
    """Start the periodic tick unless one ran recently; True if one was queued."""
    from ..tasks import engine_tick_task

    state = EngineState.objects.filter(pk=1).first()
    horizon = timezone.now() - timedelta(seconds=3 * settings.ENGINE_TICK_SECONDS)
    if state and state.last_tick_at and state.last_tick_at > horizon:
        return False
    engine_tick_task.enqueue()
    return True


# --- Test send ---------------------------------------------------------------------


@dataclass(frozen=True)
class TestSendResult:
    phone: str
    result: SendResult


MAX_TEST_NUMBERS = 5


def campaign_test_send(
    *,
    campaign: Campaign,
    phones: list[str],
    client: TelesignClient | None = None,
    actor: Actor | None = None,
) -> list[TestSendResult]:
    """Send the campaign now to a few numbers, recorded as test sends.

    Test sends never count in the campaign's results. Personalisation uses the
    contact with that number, else the preview's sample contact.
    """
    if campaign.status in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED):
        raise DomainError("A finished campaign cannot be test-sent.")
    problems = campaign_content_problems(campaign=campaign)
    if problems:
        raise DomainError(" ".join(problems))
    cleaned = []
    for raw in phones:
        try:
            cleaned.append(
                phone_normalize(raw, default_region=settings.DEFAULT_PHONE_REGION)
            )
        except PhoneNumberError as exc:
            raise DomainError(str(exc)) from exc
    cleaned = list(dict.fromkeys(cleaned))
    if not cleaned:
        raise DomainError("Give at least one phone number.")
    if len(cleaned) > MAX_TEST_NUMBERS:
        raise DomainError(f"Test sends go to at most {MAX_TEST_NUMBERS} numbers.")
    client = client or client_from_settings()
    sample = campaign_preview_contact(campaign=campaign)
    outcomes = []
    for phone in cleaned:
        contact = Contact.objects.filter(phone=phone).first()
        recipient = Recipient.objects.create(
            campaign=campaign,
            contact=contact,
            phone=phone,
            is_test=True,
            external_id=f"t{campaign.pk}-{uuid.uuid4().hex[:20]}",
            send_status=RS.IN_FLIGHT,
            claimed_by="test-send",
            claimed_at=timezone.now(),
        )
        claimed = ClaimedRecipient(
            recipient.id, phone, recipient.external_id, contact or sample
        )
        message = campaign_message(
            campaign=campaign,
            recipient=claimed,
            send_callback_url=settings.TELESIGN_SEND_CALLBACK_URL,
        )
        result = client.send(message)
        orphans_for_references_apply(
            references=send_results_record(
                results=[(recipient.id, result)], worker_id="test-send", attempts={}
            )
        )
        outcomes.append(TestSendResult(phone, result))
    audit_record(
        actor=actor,
        action=AuditEntry.Action.TEST_SENT,
        campaign=campaign,
        detail=", ".join(f"{o.phone}: {o.result.status}" for o in outcomes),
    )
    return outcomes
