"""Lost callbacks: asking Telesign what became of a message.

A message Telesign accepted that still has no final outcome
`STATUS_CHECK_AFTER` seconds after its fallback time is asked about with
`GET /v1/omnichannel/{reference_id}`, and asked again at that interval while
Telesign keeps its reference (12 hours). The answer is stored raw as a
callback event of kind "status check" and merged by the callbacks' own
never-regress rules, so it can only add what the callbacks did not say: a
stale answer never undoes a newer callback.

Asking ends when Telesign no longer keeps the reference (-10004) or does not
know it (3311), and for any message older than Telesign's 12 hours: the
recipient is then closed as Telesign's own 3039 "final status unknown",
which a real report arriving later still overrides (same rank, and the
conclusion has no time). Nobody stays pending forever.

The engine's tick runs `recipients_status_check`: a bounded batch within a
time budget, a few requests at a time.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from ...models import CallbackEvent, Campaign, CampaignReport, EngineState, Recipient
from ...telesign.client import TelesignClient
from ...telesign.config import client_from_settings
from ...telesign.status import (
    REFERENCE_LIFETIME_SECONDS,
    StatusCheck,
    StatusCheckResult,
    status_path,
)
from . import merge
from .apply import parsed_callback_apply

logger = logging.getLogger(__name__)

RS = Recipient.SendStatus
END = Recipient.StatusCheckEnd

ENDED_BECAUSE = {
    END.EXPIRED: "Final status unknown: no delivery report came, and Telesign "
    "keeps a message's status only 12 hours.",
    END.UNKNOWN_REFERENCE: "Final status unknown: no delivery report came, and "
    "Telesign does not know this message's reference (3311).",
}
ENDS_WITH = {
    StatusCheck.EXPIRED: END.EXPIRED,
    StatusCheck.UNKNOWN_REFERENCE: END.UNKNOWN_REFERENCE,
}
# Asked only while Telesign surely still keeps the reference; older ones end.
LIFETIME_MARGIN = timedelta(minutes=5)
# Requests in flight at once, and how long one may take: the tick waits.
CONCURRENCY = 4
READ_TIMEOUT_SECONDS = 5.0


@dataclass
class StatusChecks:
    """What one run did."""

    asked: int = 0
    found: int = 0  # answered with a status, stored and merged
    ended: int = 0  # closed as final status unknown; never asked again
    problem: StatusCheckResult | None = None  # the last answer we could not use


def recipients_status_check(
    *,
    now: datetime | None = None,
    limit: int | None = None,
    max_seconds: float = 2.0,
    client: TelesignClient | None = None,
) -> StatusChecks:
    """Ask Telesign about the accepted messages whose final status is late,
    at most `limit` (STATUS_CHECK_BATCH) and for about `max_seconds`; merge
    each answer like a callback, and close those Telesign can no longer tell.
    Nothing happens when STATUS_CHECK_AFTER is 0."""
    checks = StatusChecks()
    if settings.STATUS_CHECK_AFTER <= 0:
        return checks
    now = now or timezone.now()
    limit = limit or settings.STATUS_CHECK_BATCH
    deadline = time.monotonic() + max_seconds
    expired, due = recipients_status_check_due(now=now, limit=limit)
    for recipient in expired:
        checks.ended += recipient_status_check_end(
            recipient=recipient, end=END.EXPIRED, now=now
        )
    if due:
        own_client = client is None
        client = client or client_from_settings(
            read_timeout=READ_TIMEOUT_SECONDS, max_attempts=1
        )
        try:
            _ask(due, client=client, checks=checks, now=now, deadline=deadline)
        finally:
            if own_client:
                client.close()
    _tally(checks, now=now)
    return checks


def recipients_status_check_due(
    *, now: datetime, limit: int
) -> tuple[list[Recipient], list[Recipient]]:
    """(too old to ask: to close, due to be asked), at most `limit` of each.

    Due: accepted, no final outcome, sent more than the campaign's fallback
    time plus STATUS_CHECK_AFTER ago but within Telesign's 12 hours, and not
    asked within STATUS_CHECK_AFTER. Read campaign by campaign, oldest first,
    through the index of accepted messages awaiting their status.
    """
    after = timedelta(seconds=settings.STATUS_CHECK_AFTER)
    oldest = now - timedelta(seconds=REFERENCE_LIFETIME_SECONDS) + LIFETIME_MARGIN
    awaiting = Recipient.objects.filter(
        send_status=RS.ACCEPTED,
        outcome=Recipient.Outcome.PENDING,
        reference_id__isnull=False,
        status_check_end="",
        sent_at__lt=now - after,
    )
    not_asked_lately = Q(status_checked_at__isnull=True) | Q(
        status_checked_at__lt=now - after
    )
    campaigns = (
        Campaign.objects.filter(Exists(awaiting.filter(campaign=OuterRef("pk"))))
        .only("id", "fallback_time", "sms_only")
        .order_by("id")
    )
    expired: list[Recipient] = []
    due: list[Recipient] = []
    for campaign in campaigns:
        mine = awaiting.filter(campaign=campaign).order_by("sent_at")
        if len(expired) < limit:
            expired += mine.filter(sent_at__lt=oldest)[: limit - len(expired)]
        wait = after + timedelta(
            seconds=0 if campaign.sms_only else campaign.fallback_time
        )
        if len(due) < limit:
            due += mine.filter(
                not_asked_lately, sent_at__gte=oldest, sent_at__lt=now - wait
            )[: limit - len(due)]
        if len(expired) >= limit and len(due) >= limit:
            break
    return expired, due


def _ask(
    due: list[Recipient],
    *,
    client: TelesignClient,
    checks: StatusChecks,
    now: datetime,
    deadline: float,
) -> None:
    """Ask about `due`, a few at a time, until done, out of time, or Telesign
    says to stop (rate limit, outage, refused credentials)."""
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        for start in range(0, len(due), CONCURRENCY):
            if time.monotonic() >= deadline:
                return
            group = _claim(due[start : start + CONCURRENCY], now=now)
            # Only the HTTP runs in the pool; the database stays on this thread.
            answers = pool.map(
                lambda r: client.omnichannel_status(r.reference_id), group
            )
            stop = False
            for recipient, result in zip(group, answers, strict=True):
                checks.asked += 1
                stop |= _answer_apply(recipient, result, checks=checks, now=now)
            if stop:
                return


def _claim(recipients: list[Recipient], *, now: datetime) -> list[Recipient]:
    """Mark `recipients` asked now, and keep those no other run marked first."""
    after = timedelta(seconds=settings.STATUS_CHECK_AFTER)
    ids = [r.pk for r in recipients]
    Recipient.objects.filter(pk__in=ids).filter(
        Q(status_checked_at__isnull=True) | Q(status_checked_at__lt=now - after)
    ).update(status_checked_at=now)
    mine = set(
        Recipient.objects.filter(pk__in=ids, status_checked_at=now).values_list(
            "pk", flat=True
        )
    )
    return [r for r in recipients if r.pk in mine]


def _answer_apply(
    recipient: Recipient,
    result: StatusCheckResult,
    *,
    checks: StatusChecks,
    now: datetime,
) -> bool:
    """Act on one answer; True if no more should be asked for now."""
    if result.outcome == StatusCheck.FOUND:
        checks.found += status_answer_store(recipient=recipient, result=result)
        return False
    end = ENDS_WITH.get(result.outcome)
    if end is not None:
        checks.ended += recipient_status_check_end(
            recipient=recipient, end=end, now=now
        )
        return False
    checks.problem = result
    if result.outcome == StatusCheck.AUTH_FAILED:
        logger.warning(
            "status checks refused by Telesign (%s): is getting a message's "
            "status enabled for this account? STATUS_CHECK_AFTER=0 stops asking",
            result.problem,
        )
    else:
        logger.info("status check of %s: %s", recipient.external_id, result.problem)
    return result.outcome in (StatusCheck.RETRY_LATER, StatusCheck.AUTH_FAILED)


def status_answer_store(*, recipient: Recipient, result: StatusCheckResult) -> bool:
    """Store Telesign's answer raw, as a callback event of kind "status check",
    and merge it like a callback; False if the very same answer was stored
    before (nothing new)."""
    event = CallbackEvent(
        method="GET",
        headers={"Path": status_path(recipient.reference_id)},
        raw_body=result.body,
        body_sha256=CallbackEvent.body_digest(result.body),
        signature=CallbackEvent.Signature.FETCHED,
        kind=CallbackEvent.Kind.STATUS_CHECK,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                event.save()
        except IntegrityError:
            return False  # a body stored once only: this answer is known
        parsed_callback_apply(event=event, parsed=result.report)
    return True


def recipient_status_check_end(
    *, recipient: Recipient, end: Recipient.StatusCheckEnd, now: datetime
) -> bool:
    """Stop asking about a message Telesign can no longer tell us about, and
    close it as "final status unknown" (3039) through the merge, so a real
    report that still comes wins. False if a final status came meanwhile."""
    with transaction.atomic():
        locked = (
            Recipient.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .filter(
                pk=recipient.pk, outcome=Recipient.Outcome.PENDING, status_check_end=""
            )
            .first()
        )
        if locked is None:
            return False
        merge.final_status_unknown_merge(
            recipient=locked,
            attempts={a.channel: a for a in locked.attempts.all()},
            description=ENDED_BECAUSE[end],
        )
        locked.status_check_end = end
        locked.status_checked_at = now
        locked.save(
            update_fields=[
                *merge.RECIPIENT_CALLBACK_FIELDS,
                "status_check_end",
                "status_checked_at",
            ]
        )
        # No callback event tells the report about this change.
        CampaignReport.objects.filter(campaign_id=locked.campaign_id).update(stale=True)
    return True


def _tally(checks: StatusChecks, *, now: datetime) -> None:
    """Count the run on the engine's row, for /health/."""
    if not (checks.asked or checks.ended):
        return
    EngineState.objects.get_or_create(pk=1)
    changes = {
        "status_checks_asked": F("status_checks_asked") + checks.asked,
        "status_checks_found": F("status_checks_found") + checks.found,
        "status_checks_ended": F("status_checks_ended") + checks.ended,
        "status_check_last_at": now,
    }
    if checks.problem is not None:
        changes.update(
            status_check_problem=checks.problem.problem[:200],
            status_check_problem_at=now,
        )
    EngineState.objects.filter(pk=1).update(**changes)
