"""A campaign's report figures: every number the report page, the comparison
and the actual cost read, aggregated in the database as one typed value.

ReportFigures is stored in CampaignReport.figures as JSON (`to_json`) and
read back from it (`from_json`); services/reports.py keeps the stored copy
fresh. Test sends are never counted.
"""

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from django.db.models import Count, Max, Min, QuerySet

from ..db.delivery_times import delivery_times
from ..db.functions import EpochBucket
from ..db.snapshot import read_snapshot
from ..models import Campaign, Channel, ChannelAttempt, Recipient

# Recipients whose outcome can still change.
OPEN_OUTCOMES = (Recipient.Outcome.PENDING,)
# Campaigns still sending (or that may send again): their figures change.
ACTIVE_STATUSES = (Campaign.Status.SENDING, Campaign.Status.PAUSED)
# Sizes of the "deliveries over time" buckets, smallest first.
TIMELINE_BUCKETS = (10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400)
TIMELINE_MAX_BUCKETS = 48
FAILURE_REASONS_SHOWN = 10


# --- The figures ------------------------------------------------------------------


@dataclass(frozen=True)
class Rates:
    """Each rate from 0 to 1; None when there is nothing to divide by."""

    viber_delivery: float | None  # delivered on Viber ÷ attempted on Viber
    fallback: float | None  # fell back to SMS ÷ attempted on Viber
    completion: float | None  # delivered on either channel ÷ attempted
    read: float | None  # read ÷ delivered on Viber


@dataclass(frozen=True)
class ChannelAttempts:
    """Channel attempts made (messages sent to Telesign), per channel."""

    viber: int
    sms: int


class FailureReason(NamedTuple):
    reason: str
    count: int


@dataclass(frozen=True)
class StatusCodeCount:
    """How many attempts on `channel` ended with Telesign's status `code`."""

    channel: str
    code: int | None
    description: str
    count: int


class TimelineBucket(NamedTuple):
    start: int  # seconds since the epoch
    viber: int
    sms: int


@dataclass(frozen=True)
class Timeline:
    """Deliveries per channel in equal time buckets; no buckets (and no
    start) before the first delivery."""

    bucket_seconds: int
    start: int | None
    buckets: tuple[TimelineBucket, ...]


@dataclass(frozen=True)
class DeliveryTime:
    """Deliveries on one channel and how long they took from sent, in
    seconds (nearest-rank median and 90th percentile; None without any)."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class TimesToDelivery:
    viber: DeliveryTime
    sms: DeliveryTime


@dataclass(frozen=True)
class ReportFigures:
    """Every figure of a campaign's report."""

    recipients: int
    # Recipients per Recipient.Outcome value, every outcome present.
    outcomes: dict[str, int]
    # Suppressed per Recipient.SuppressionReason value; duplicates merged in
    # the audiences count as suppressed duplicates.
    suppressed: dict[str, int]
    suppressed_total: int
    attempted: int  # sent to Telesign: accepted, unconfirmed or rejected
    viber_delivered: int
    sms_delivered: int
    read: int
    fell_back: int  # recipients with an SMS attempt after Viber
    failed: int
    failure_reasons: tuple[FailureReason, ...]  # the most frequent first
    failure_reasons_more: bool  # more reasons than FAILURE_REASONS_SHOWN
    pending: int  # pending, not counting the unconfirmed
    pending_not_sent: int
    unconfirmed: int  # Telesign's answer was lost; waiting for a callback
    opted_out_after: int
    final: int  # recipients whose outcome can no longer change
    attempts: ChannelAttempts
    codes: tuple[StatusCodeCount, ...]
    rates: Rates
    progress: float | None  # final ÷ recipients
    timeline: Timeline
    time_to_delivery: TimesToDelivery
    # Unconfirmed recipients sent again as no callback came (reports stored
    # before it was counted read as 0).
    reconciled: int = 0

    def to_json(self) -> dict[str, Any]:
        """The figures as plain JSON, the form CampaignReport stores."""
        return {
            **{name: getattr(self, name) for name in _PLAIN_FIELDS},
            "outcomes": dict(self.outcomes),
            "suppressed": dict(self.suppressed),
            "failure_reasons": [list(reason) for reason in self.failure_reasons],
            "attempts": asdict(self.attempts),
            "codes": [asdict(code) for code in self.codes],
            "rates": asdict(self.rates),
            "timeline": {
                "bucket_seconds": self.timeline.bucket_seconds,
                "start": self.timeline.start,
                "buckets": [list(bucket) for bucket in self.timeline.buckets],
            },
            "time_to_delivery": asdict(self.time_to_delivery),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ReportFigures":
        """The figures a CampaignReport stored (`to_json`'s form)."""
        timeline = data["timeline"]
        times = data["time_to_delivery"]
        return cls(
            **{name: data[name] for name in _PLAIN_FIELDS if name in data},
            outcomes=dict(data["outcomes"]),
            suppressed=dict(data["suppressed"]),
            failure_reasons=tuple(
                FailureReason(*reason) for reason in data["failure_reasons"]
            ),
            attempts=ChannelAttempts(**data["attempts"]),
            codes=tuple(StatusCodeCount(**code) for code in data["codes"]),
            rates=Rates(**data["rates"]),
            timeline=Timeline(
                bucket_seconds=timeline["bucket_seconds"],
                start=timeline["start"],
                buckets=tuple(TimelineBucket(*row) for row in timeline["buckets"]),
            ),
            time_to_delivery=TimesToDelivery(
                viber=DeliveryTime(**times["viber"]), sms=DeliveryTime(**times["sms"])
            ),
        )


# Figures that are a number or a flag, the same in JSON as in Python.
_PLAIN_FIELDS = (
    "recipients",
    "suppressed_total",
    "attempted",
    "viber_delivered",
    "sms_delivered",
    "read",
    "fell_back",
    "failed",
    "failure_reasons_more",
    "pending",
    "pending_not_sent",
    "unconfirmed",
    "opted_out_after",
    "final",
    "progress",
    "reconciled",
)


def campaign_report_live(*, campaign: Campaign, figures: ReportFigures) -> bool:
    """Whether the report may still change: the campaign is sending or paused,
    or a recipient is still pending (unconfirmed ones included)."""
    return campaign.status in ACTIVE_STATUSES or bool(
        figures.pending + figures.unconfirmed
    )


# --- Aggregation ------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def campaign_report_figures(*, campaign: Campaign) -> ReportFigures:
    """Every figure of a campaign's report, aggregated in the database.

    A fixed number of queries whatever the campaign's size, all reading one
    snapshot: figures computed while callbacks arrive still agree (the
    deliveries chart and the tiles count the same deliveries).
    """
    with read_snapshot():
        return _figures(campaign)


def _figures(campaign: Campaign) -> ReportFigures:
    O = Recipient.Outcome  # noqa: E741 - short alias for a long enum
    recipients = Recipient.objects.filter(campaign=campaign, is_test=False)
    tally = _RecipientTally.of(recipients)
    tally.suppressed[Recipient.SuppressionReason.DUPLICATE] += (
        campaign.audience_duplicates
    )
    outcomes = tally.outcomes
    attempted = sum(tally.send_status[s] for s in Recipient.SENT_STATUSES)
    reasons, more_reasons = _failure_reasons(recipients)
    codes = _status_codes(campaign)
    attempts = ChannelAttempts(
        viber=sum(code.count for code in codes if code.channel == Channel.VIBER),
        sms=sum(code.count for code in codes if code.channel == Channel.SMS),
    )
    fell_back = 0 if campaign.sms_only else attempts.sms
    delivered = outcomes[O.VIBER_DELIVERED] + outcomes[O.SMS_DELIVERED]
    viber_attempted = 0 if campaign.sms_only else attempted
    return ReportFigures(
        recipients=tally.total,
        outcomes=outcomes,
        suppressed=tally.suppressed,
        suppressed_total=sum(tally.suppressed.values()),
        attempted=attempted,
        viber_delivered=outcomes[O.VIBER_DELIVERED],
        sms_delivered=outcomes[O.SMS_DELIVERED],
        read=tally.read,
        fell_back=fell_back,
        failed=outcomes[O.FAILED],
        failure_reasons=reasons,
        failure_reasons_more=more_reasons,
        pending=outcomes[O.PENDING] - tally.unconfirmed,
        pending_not_sent=tally.waiting,
        unconfirmed=tally.unconfirmed,
        opted_out_after=tally.opted_out,
        final=tally.total - outcomes[O.PENDING],
        attempts=attempts,
        codes=codes,
        rates=Rates(
            viber_delivery=_rate(outcomes[O.VIBER_DELIVERED], viber_attempted),
            fallback=_rate(fell_back, viber_attempted),
            completion=_rate(delivered, attempted),
            read=_rate(tally.read, outcomes[O.VIBER_DELIVERED]),
        ),
        progress=_rate(tally.total - outcomes[O.PENDING], tally.total),
        timeline=_deliveries_over_time(recipients),
        time_to_delivery=_time_to_delivery(campaign),
        reconciled=tally.reconciled,
    )


@dataclass
class _RecipientTally:
    """Recipients counted per outcome, suppression reason and send status,
    from one grouped query."""

    outcomes: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(Recipient.Outcome.values, 0)
    )
    suppressed: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(Recipient.SuppressionReason.values, 0)
    )
    send_status: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(Recipient.SendStatus.values, 0)
    )
    total: int = 0
    read: int = 0
    opted_out: int = 0  # replied to opt out after the message
    unconfirmed: int = 0  # pending, and Telesign's answer was lost
    waiting: int = 0  # pending and not sent yet
    reconciled: int = 0  # sent again after no callback came

    @classmethod
    def of(cls, recipients: QuerySet) -> "_RecipientTally":
        tally = cls()
        groups = recipients.values(
            "outcome", "suppression_reason", "send_status"
        ).annotate(
            count=Count("id"),
            read=Count("read_at"),
            opted_out=Count("opted_out_at"),
            reconciled=Count("reconciled_at"),
        )
        for row in groups:
            tally.add(row)
        return tally

    def add(self, row: dict) -> None:
        count = row["count"]
        self.total += count
        self.read += row["read"]
        self.opted_out += row["opted_out"]
        self.reconciled += row["reconciled"]
        self.outcomes[row["outcome"]] += count
        self.send_status[row["send_status"]] += count
        if row["suppression_reason"]:
            self.suppressed[row["suppression_reason"]] += count
        if row["outcome"] == Recipient.Outcome.PENDING:
            if row["send_status"] == Recipient.SendStatus.UNCONFIRMED:
                self.unconfirmed += count
            elif row["send_status"] != Recipient.SendStatus.ACCEPTED:
                self.waiting += count


def _failure_reasons(recipients: QuerySet) -> tuple[tuple[FailureReason, ...], bool]:
    """The most frequent reasons of failure, and whether there are more."""
    rows = list(
        recipients.filter(outcome=Recipient.Outcome.FAILED)
        .values("failure_reason")
        .annotate(count=Count("id"))
        .order_by("-count", "failure_reason")[: FAILURE_REASONS_SHOWN + 1]
    )
    reasons = tuple(
        FailureReason(row["failure_reason"] or "No reason given", row["count"])
        for row in rows[:FAILURE_REASONS_SHOWN]
    )
    return reasons, len(rows) > FAILURE_REASONS_SHOWN


def _status_codes(campaign: Campaign) -> tuple[StatusCodeCount, ...]:
    """Attempts per channel and Telesign status code, most frequent first."""
    rows = (
        ChannelAttempt.objects.filter(
            recipient__campaign=campaign, recipient__is_test=False
        )
        .values("channel", "status_code")
        .annotate(count=Count("id"), description=Max("status_description"))
        .order_by("channel", "-count", "status_code")
    )
    return tuple(
        StatusCodeCount(
            channel=row["channel"],
            code=row["status_code"],
            description=row["description"] or "",
            count=row["count"],
        )
        for row in rows
    )


def _deliveries_over_time(recipients: QuerySet) -> Timeline:
    """Deliveries per channel in equal time buckets (at most 48 of them)."""

    delivered = recipients.filter(
        delivered_at__isnull=False,
        outcome__in=[
            Recipient.Outcome.VIBER_DELIVERED,
            Recipient.Outcome.SMS_DELIVERED,
        ],
    )
    span = delivered.aggregate(first=Min("delivered_at"), last=Max("delivered_at"))
    if span["first"] is None:
        return Timeline(bucket_seconds=0, start=None, buckets=())
    seconds = (span["last"] - span["first"]).total_seconds()
    bucket = next(
        (b for b in TIMELINE_BUCKETS if seconds / b < TIMELINE_MAX_BUCKETS),
        TIMELINE_BUCKETS[-1],
    )
    start = int(span["first"].timestamp()) // bucket * bucket
    rows = (
        delivered.annotate(bucket=EpochBucket("delivered_at", bucket))
        .values("bucket", "outcome")
        .annotate(count=Count("id"))
    )
    count = int(seconds // bucket) + 2
    series = [[start + i * bucket, 0, 0] for i in range(count)]
    for row in rows:
        index = (int(row["bucket"]) - start) // bucket
        if 0 <= index < count:
            column = 1 if row["outcome"] == Recipient.Outcome.VIBER_DELIVERED else 2
            series[index][column] += row["count"]
    while len(series) > 1 and series[-1][1:] == [0, 0]:
        series.pop()
    return Timeline(
        bucket_seconds=bucket,
        start=start,
        buckets=tuple(TimelineBucket(*row) for row in series),
    )


def _time_to_delivery(campaign: Campaign) -> TimesToDelivery:
    """Median and 90th percentile of sent → delivered, in seconds, per channel."""
    viber, sms = Recipient.Outcome.VIBER_DELIVERED, Recipient.Outcome.SMS_DELIVERED
    times = delivery_times(campaign_id=campaign.pk, outcomes=[viber, sms])
    return TimesToDelivery(
        viber=DeliveryTime(*times[viber]), sms=DeliveryTime(*times[sms])
    )
