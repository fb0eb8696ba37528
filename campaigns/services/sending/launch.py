"""Launching a campaign: the checks, scheduling for later, and materialising
one recipient row per contact before the workers start sending.

A launch is one transaction holding the campaign row: launching twice creates
nothing twice. The recipients are written by the database in one statement
(`campaigns.db.materialise`); on PostgreSQL a large audience is split into
contact-id ranges written by parallel connections.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from ...db.materialise import recipients_insert_from_audiences
from ...models import AuditEntry, Campaign, Contact, Recipient
from ...selectors import campaign_sms_problems, campaign_target_contacts
from ...telesign import telesign_uses_sandbox
from ..errors import DomainError
from ..governance import Actor, audit_record, campaign_approval_problems
from .scheduling import engine_tick_ensure, send_tasks_enqueue

logger = logging.getLogger(__name__)


def campaign_content_problems(*, campaign: Campaign) -> list[str]:
    """What stops the message itself from being sent, in words for a marketer
    (among them, placeholders the audiences' contacts have no field for)."""
    problems = []
    image_url = campaign.image.public_url
    if campaign.sms_only:
        if not campaign.sms_text.strip():
            problems.append("The campaign is SMS only but its SMS text is empty.")
        return problems + campaign_sms_problems(campaign=campaign)
    if not image_url.startswith("https://") and not telesign_uses_sandbox():
        problems.append(
            f"Viber fetches images over https only, but the image address is "
            f"{image_url}. Ask an administrator to publish the app at an https "
            "address."
        )
    if campaign.sms_fallback_enabled and not campaign.sms_text.strip():
        problems.append("The SMS fallback is on but its text is empty.")
    return problems + campaign_sms_problems(campaign=campaign)


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


def _campaign_lock_for_start(*, campaign_id: int) -> Campaign:
    """The campaign row locked for starting it, its image loaded for the checks.

    NO KEY: a parallel materialisation's foreign-key checks must not wait for
    this lock. Call inside a transaction.
    """
    return (
        Campaign.objects.select_for_update(no_key=True)
        .select_related("image")
        .get(pk=campaign_id)
    )


def campaign_launch(
    *, campaign: Campaign, now: datetime | None = None, actor: Actor | None = None
) -> LaunchResult:
    """Launch now, or schedule if `scheduled_at` is in the future.

    Raises DomainError listing what is wrong. Launching twice creates nothing
    twice: the campaign row is locked and its status checked.
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = _campaign_lock_for_start(campaign_id=campaign.pk)
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


def scheduled_campaigns_start(*, now: datetime) -> int:
    """Start the scheduled campaigns whose time has come; returns how many.

    What was true when one was scheduled may not be any more (its approval
    withdrawn, its audiences emptied, its image removed): such a campaign goes
    back to draft, saying why.
    """
    started = 0
    for campaign in Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, scheduled_at__lte=now
    ).only("id"):
        with transaction.atomic():
            locked = _campaign_lock_for_start(campaign_id=campaign.pk)
            if locked.status != Campaign.Status.SCHEDULED:
                continue
            problems = campaign_launch_problems(campaign=locked)
            if problems:
                _campaign_unschedule_by_engine(campaign=locked, problems=problems)
                continue
            _campaign_start(campaign=locked, now=now)
            started += 1
    return started


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


def _materialise_in_parallel(
    *, campaign: Campaign, now: datetime, ranges: list[tuple[int, int]]
) -> None:
    """Each range in its own connection and transaction, at the same time.

    Most of a large launch is PostgreSQL checking foreign keys and filling
    indexes row by row, which two connections do on two cores. Each range
    commits on its own; the campaign only starts sending once the caller's
    transaction commits, and a relaunch after a failure skips the rows that
    exist (ON CONFLICT DO NOTHING). The caller holds the campaign row with
    FOR NO KEY UPDATE, which these inserts' key checks do not wait for.
    """
    errors: list[BaseException] = []

    def insert(low: int, high: int) -> None:
        try:
            with transaction.atomic():
                recipients_insert_from_audiences(
                    campaign=campaign, now=now, low=low, high=high
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=insert, args=bounds) for bounds in ranges]
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
    ranges = _materialise_ranges(campaign=campaign)
    if len(ranges) == 1:
        low, high = ranges[0]
        recipients_insert_from_audiences(campaign=campaign, now=now, low=low, high=high)
    else:
        _materialise_in_parallel(campaign=campaign, now=now, ranges=ranges)
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
