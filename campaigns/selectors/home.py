"""What a marketer's home shows: campaigns sending now, scheduled next, drafts,
recent results, and the audiences and images at hand.

Every figure comes from the stored reports (kept fresh by the engine tick while
a campaign sends) or from a query bounded by the handful of rows shown, so the
home costs the same whatever the size of the campaigns: the only count over
recipients is the last minute's sends of a sending campaign, read from the
(campaign, sent_at) index.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from ..models import Campaign, CampaignReport, ImageAsset, Recipient
from .campaigns import audiences_with_counts
from .reports import ACTIVE_STATUSES, ReportFigures

# How many rows each part of the home lists.
HOME_ROWS = 5
HOME_IMAGES = 6
# The window the sending rate is measured over.
RATE_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class SendingCampaign:
    """A campaign sending (or paused): how far it is and when it should end.

    `sent` counts recipients sent to Telesign, `target` those it will message
    (suppressed ones left out); `rate` is messages per second over the last
    minute; `eta` is when the rest would be sent at that rate (at the
    campaign's maximum rate before any was measured), None when paused or
    done.
    """

    campaign: Campaign
    sent: int
    target: int
    rate: float
    eta: datetime | None

    @property
    def share(self) -> float:
        return self.sent / self.target if self.target else 0.0


@dataclass(frozen=True)
class CampaignResult:
    """A finished campaign's headline rates (each 0–1, None without a base)."""

    campaign: Campaign
    recipients: int
    delivered: float | None  # on Viber or by SMS, of attempted
    viber_delivered: float | None
    fallback: float | None
    read: float | None


@dataclass(frozen=True)
class Home:
    sending: list[SendingCampaign]
    scheduled: list[Campaign]
    drafts: list[Campaign]
    results: list[CampaignResult]
    audiences: list  # Audience rows annotated with contact_count
    images: list[ImageAsset]


def home_overview(*, now: datetime | None = None) -> Home:
    """Everything the home shows, as of `now`."""
    now = now or timezone.now()
    return Home(
        sending=[
            campaign_sending_state(campaign=campaign, now=now)
            for campaign in _campaigns(status__in=ACTIVE_STATUSES).order_by(
                "started_at"
            )
        ],
        scheduled=list(
            _campaigns(status=Campaign.Status.SCHEDULED).order_by("scheduled_at")[
                :HOME_ROWS
            ]
        ),
        drafts=list(
            _campaigns(status=Campaign.Status.DRAFT).order_by("-updated_at")[:HOME_ROWS]
        ),
        results=[
            campaign_result(campaign=campaign)
            for campaign in _campaigns(
                status__in=[Campaign.Status.COMPLETED, Campaign.Status.CANCELLED]
            ).order_by("-completed_at", "-id")[:HOME_ROWS]
        ],
        audiences=list(audiences_with_counts().order_by("-created_at")[:HOME_ROWS]),
        images=list(ImageAsset.objects.order_by("-created_at")[:HOME_IMAGES]),
    )


def _campaigns(**filters) -> QuerySet[Campaign]:
    return Campaign.objects.filter(**filters).select_related("image", "report")


def campaign_sending_state(*, campaign: Campaign, now: datetime) -> SendingCampaign:
    """How far a sending campaign is, from its stored report and the last
    minute's sends."""
    figures = _stored_figures(campaign)
    sent = figures.attempted if figures else 0
    target = figures.recipients - figures.suppressed_total if figures else 0
    recent = Recipient.objects.filter(
        campaign=campaign, sent_at__gte=now - RATE_WINDOW, sent_at__isnull=False
    ).count()
    rate = recent / RATE_WINDOW.total_seconds()
    remaining = max(target - sent, 0)
    eta = None
    if campaign.status == Campaign.Status.SENDING and remaining:
        per_second = rate or float(campaign.max_send_rate)
        eta = now + timedelta(seconds=remaining / per_second)
    return SendingCampaign(
        campaign=campaign, sent=sent, target=target, rate=rate, eta=eta
    )


def campaign_result(*, campaign: Campaign) -> CampaignResult:
    report: CampaignReport | None = getattr(campaign, "report", None)
    if report is None:
        return CampaignResult(campaign, 0, None, None, None, None)
    return CampaignResult(
        campaign=campaign,
        recipients=report.recipients,
        delivered=report.completion_rate,
        viber_delivered=report.viber_delivery_rate,
        fallback=report.fallback_rate,
        read=report.read_rate,
    )


def _stored_figures(campaign: Campaign) -> ReportFigures | None:
    report = getattr(campaign, "report", None)
    if report is None or not report.figures:
        return None
    return ReportFigures.from_json(report.figures)
