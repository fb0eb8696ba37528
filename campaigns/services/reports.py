"""Campaign reports: keeping the stored figures fresh, and follow-up campaigns."""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ..db.audience_members import audience_members_insert
from ..models import (
    Audience,
    AuditEntry,
    CallbackEvent,
    Campaign,
    CampaignReport,
    EngineState,
)
from ..selectors import (
    ACTIVE_STATUSES,
    ReportFigures,
    campaign_follow_up_recipients,
    campaign_report_figures,
)
from .errors import DomainError
from .governance import Actor, audit_record

logger = logging.getLogger(__name__)


def campaign_report_refresh(*, campaign: Campaign) -> CampaignReport:
    """Recompute a campaign's figures from the database and store them (as
    JSON: ReportFigures.from_json reads them back)."""
    started = time.perf_counter()
    figures = campaign_report_figures(campaign=campaign)
    rates = figures.rates
    report, _ = CampaignReport.objects.update_or_create(
        campaign=campaign,
        defaults={
            "computed_at": timezone.now(),
            "compute_seconds": time.perf_counter() - started,
            "stale": False,
            "figures": figures.to_json(),
            "recipients": figures.recipients,
            "progress": figures.progress,
            "viber_delivery_rate": rates.viber_delivery,
            "fallback_rate": rates.fallback,
            "completion_rate": rates.completion,
            "read_rate": rates.read,
        },
    )
    return report


def report_refresh_interval(report: CampaignReport) -> timedelta:
    """How long a report stays fresh: long enough that computing it takes at
    most a tenth of the time."""
    return timedelta(
        seconds=max(settings.REPORT_REFRESH_SECONDS, 10 * report.compute_seconds)
    )


def report_is_due(report: CampaignReport | None, *, now: datetime) -> bool:
    if report is None:
        return True
    if not (report.stale or report.campaign.status in ACTIVE_STATUSES):
        return False
    return report.computed_at + report_refresh_interval(report) <= now


def campaign_report_current(*, campaign: Campaign) -> CampaignReport:
    """The report to show now: recomputed here when it is missing, or out of
    date and cheap to recompute; otherwise the stored one (the engine tick
    keeps large campaigns' reports fresh)."""
    report = CampaignReport.objects.filter(campaign=campaign).first()
    if report is None:
        return campaign_report_refresh(campaign=campaign)
    report.campaign = campaign
    cheap = report.compute_seconds <= settings.REPORT_INLINE_MAX_SECONDS
    if cheap and (
        report.stale or campaign.status in ACTIVE_STATUSES or _has_open_outcomes(report)
    ):
        return campaign_report_refresh(campaign=campaign)
    return report


def _has_open_outcomes(report: CampaignReport) -> bool:
    """Whether the stored figures count recipients whose outcome may change."""
    figures = ReportFigures.from_json(report.figures)
    return figures.final != figures.recipients


def campaign_reports_refresh_due(*, now: datetime | None = None) -> int:
    """Mark the reports of campaigns that received callbacks as stale, then
    recompute every report that is due. Called by the engine tick."""
    now = now or timezone.now()
    state, _ = EngineState.objects.get_or_create(pk=1)
    newest = CallbackEvent.objects.order_by("-id").values_list("id", flat=True).first()
    if newest and newest > state.report_event_mark:
        touched = (
            CallbackEvent.objects.filter(
                id__gt=state.report_event_mark,
                id__lte=newest,
                recipient__isnull=False,
            )
            .values_list("recipient__campaign_id", flat=True)
            .distinct()
        )
        CampaignReport.objects.filter(campaign_id__in=touched).update(stale=True)
        EngineState.objects.filter(pk=1).update(report_event_mark=newest)
    candidates = Campaign.objects.filter(status__in=ACTIVE_STATUSES) | (
        Campaign.objects.filter(report__stale=True)
    )
    refreshed = 0
    for campaign in candidates.select_related("report").distinct():
        report = getattr(campaign, "report", None)
        if report_is_due(report, now=now):
            campaign_report_refresh(campaign=campaign)
            refreshed += 1
    return refreshed


# --- Follow-up campaigns ----------------------------------------------------------


def campaign_follow_up_create(
    *,
    campaign: Campaign,
    include_pending: bool = False,
    sms_only: bool = False,
    recipients: QuerySet | None = None,
    actor: Actor | None = None,
) -> Campaign:
    """A draft campaign with the same content, to the resendable recipients
    of `campaign` (or of the `recipients` given), in an audience of its own.

    Launching it later skips anyone the original delivered to in the meantime.
    """
    if sms_only and not campaign.sms_text:
        raise DomainError(
            f"“{campaign}” has no SMS text, so it cannot be resent by SMS."
        )
    chosen = campaign_follow_up_recipients(
        campaign=campaign, include_pending=include_pending, recipients=recipients
    )
    what = "failed or pending" if include_pending else "failed"
    how = " by SMS" if sms_only else ""
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    with transaction.atomic():
        audience = Audience.objects.create(
            name=f"Resend{how} of “{campaign.name}” ({what}, {stamp}) #{campaign.pk}"[
                :200
            ],
            description=f"Recipients of campaign {campaign.pk} whose message {what}.",
        )
        added = _audience_fill(audience=audience, recipients=chosen)
        if not added:
            raise DomainError(
                f"“{campaign}” has no {what} recipient who can be messaged again "
                "(delivered, opted-out and test recipients are never resent)."
            )
        follow_up = Campaign.objects.create(
            name=f"{campaign.name} — resend{how}"[:200],
            image=campaign.image,
            viber_template=campaign.viber_template,
            fallback_time=campaign.fallback_time,
            sms_fallback_enabled=campaign.sms_fallback_enabled and not sms_only,
            sms_only=sms_only,
            sms_text=campaign.sms_text,
            message_type=campaign.message_type,
            max_send_rate=campaign.max_send_rate,
            send_window_start=campaign.send_window_start,
            send_window_end=campaign.send_window_end,
            follow_up_of=campaign,
            created_by=actor.user if actor else None,
        )
        follow_up.audiences.add(audience)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.FOLLOW_UP_CREATED,
            campaign=campaign,
            detail=f"Draft “{follow_up.name}” (#{follow_up.pk}) for {added} "
            f"{what} recipient(s){how}.",
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATED,
            campaign=follow_up,
            detail=f"Resend of “{campaign.name}” (#{campaign.pk}).",
        )
    logger.info(
        "campaign %s: follow-up %s for %s recipients", campaign.pk, follow_up.pk, added
    )
    return follow_up


def _audience_fill(*, audience: Audience, recipients: QuerySet) -> int:
    """Add the recipients' contacts to `audience` in one statement."""
    return audience_members_insert(
        audience_id=audience.pk,
        contact_ids=recipients.values("contact_id"),
        added_at=timezone.now(),
    )
