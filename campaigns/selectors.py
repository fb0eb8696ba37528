"""Every read the admin and the engine need, as plain functions."""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)

from .exports import CsvSafeText, csv_stream
from .models import (
    Audience,
    CallbackEvent,
    Campaign,
    CampaignReport,
    ChannelAttempt,
    Contact,
    Recipient,
)
from .sms import sms_segments


def campaign_target_contacts(*, campaign: Campaign) -> QuerySet[Contact]:
    """Contacts a launch would message: in the audiences, not opted out, once each."""
    return Contact.objects.filter(
        audiences__in=campaign.audiences.all(), opted_out_at__isnull=True
    ).distinct()


def campaign_audience_summary(*, campaign: Campaign) -> dict[str, int]:
    """How many contacts the audiences hold, and how many would be messaged."""
    in_audiences = Contact.objects.filter(audiences__in=campaign.audiences.all())
    return in_audiences.aggregate(
        contacts=Count("id", distinct=True),
        opted_out=Count("id", distinct=True, filter=Q(opted_out_at__isnull=False)),
        targeted=Count("id", distinct=True, filter=Q(opted_out_at__isnull=True)),
    )


def campaign_preview_contact(
    *, campaign: Campaign, contact_id: int | None = None
) -> Contact | None:
    """The contact a preview is filled in for: the one asked for, else the first
    targeted contact, else None."""
    targeted = campaign_target_contacts(campaign=campaign)
    if contact_id is not None:
        chosen = targeted.filter(pk=contact_id).first()
        if chosen is not None:
            return chosen
    return targeted.order_by("id").first()


def audiences_with_counts() -> QuerySet[Audience]:
    return Audience.objects.annotate(
        contact_count=Count("contacts", distinct=True),
        opted_out_count=Count(
            "contacts",
            distinct=True,
            filter=Q(contacts__opted_out_at__isnull=False),
        ),
    )


def campaign_send_progress(*, campaign: Campaign) -> dict[str, int]:
    """Recipients of a campaign per send status (test sends excluded)."""

    rows = (
        Recipient.objects.filter(campaign=campaign, is_test=False)
        .values("send_status")
        .annotate(count=Count("id"))
    )
    progress = {status: 0 for status in Recipient.SendStatus.values}
    for row in rows:
        progress[row["send_status"]] = row["count"]
    return progress


# --- Reports ---------------------------------------------------------------------

# Recipients whose outcome can still change.
OPEN_OUTCOMES = ("pending",)
# Sizes of the "deliveries over time" buckets, smallest first.
TIMELINE_BUCKETS = (10, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400)
TIMELINE_MAX_BUCKETS = 48
FAILURE_REASONS_SHOWN = 10


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def campaign_report_figures(*, campaign: Campaign) -> dict:
    """Every figure of a campaign's report, aggregated in the database.

    A fixed number of queries whatever the campaign's size; the result is
    plain JSON so it can be stored (CampaignReport) and compared.
    Test sends are not counted.
    """

    R = Recipient.Outcome
    recipients = Recipient.objects.filter(campaign=campaign, is_test=False)
    groups = recipients.values("outcome", "suppression_reason", "send_status").annotate(
        count=Count("id"), read=Count("read_at"), opted_out=Count("opted_out_at")
    )
    by_outcome = dict.fromkeys(R.values, 0)
    suppressed = dict.fromkeys(Recipient.SuppressionReason.values, 0)
    send_status = dict.fromkeys(Recipient.SendStatus.values, 0)
    total = read = opted_out_after = unconfirmed = waiting = 0
    for row in groups:
        count = row["count"]
        total += count
        read += row["read"]
        opted_out_after += row["opted_out"]
        by_outcome[row["outcome"]] += count
        send_status[row["send_status"]] += count
        if row["suppression_reason"]:
            suppressed[row["suppression_reason"]] += count
        if row["outcome"] == R.PENDING:
            if row["send_status"] == Recipient.SendStatus.UNCONFIRMED:
                unconfirmed += count
            elif row["send_status"] != Recipient.SendStatus.ACCEPTED:
                waiting += count
    suppressed[Recipient.SuppressionReason.DUPLICATE] += campaign.audience_duplicates
    attempted = sum(send_status[s] for s in Recipient.SENT_STATUSES)
    failure_rows = list(
        recipients.filter(outcome=R.FAILED)
        .values("failure_reason")
        .annotate(count=Count("id"))
        .order_by("-count", "failure_reason")[: FAILURE_REASONS_SHOWN + 1]
    )
    failure_reasons = [
        [row["failure_reason"] or "No reason given", row["count"]]
        for row in failure_rows[:FAILURE_REASONS_SHOWN]
    ]
    codes = [
        {
            "channel": row["channel"],
            "code": row["status_code"],
            "description": row["description"] or "",
            "count": row["count"],
        }
        for row in ChannelAttempt.objects.filter(
            recipient__campaign=campaign, recipient__is_test=False
        )
        .values("channel", "status_code")
        .annotate(count=Count("id"), description=Max("status_description"))
        .order_by("channel", "-count", "status_code")
    ]
    attempts_per_channel = {"viber": 0, "sms": 0}
    for row in codes:
        attempts_per_channel[row["channel"]] += row["count"]
    fell_back = 0 if campaign.sms_only else attempts_per_channel["sms"]
    delivered = by_outcome[R.VIBER_DELIVERED] + by_outcome[R.SMS_DELIVERED]
    viber_attempted = 0 if campaign.sms_only else attempted
    return {
        "recipients": total,
        "outcomes": by_outcome,
        "suppressed": suppressed,
        "suppressed_total": sum(suppressed.values()),
        "attempted": attempted,
        "viber_delivered": by_outcome[R.VIBER_DELIVERED],
        "sms_delivered": by_outcome[R.SMS_DELIVERED],
        "read": read,
        "fell_back": fell_back,
        "failed": by_outcome[R.FAILED],
        "failure_reasons": failure_reasons,
        "failure_reasons_more": len(failure_rows) > FAILURE_REASONS_SHOWN,
        "pending": by_outcome[R.PENDING] - unconfirmed,
        "pending_not_sent": waiting,
        "unconfirmed": unconfirmed,
        "opted_out_after": opted_out_after,
        "final": total - by_outcome[R.PENDING],
        "attempts": attempts_per_channel,
        "codes": codes,
        "rates": {
            "viber_delivery": _rate(by_outcome[R.VIBER_DELIVERED], viber_attempted),
            "fallback": _rate(fell_back, viber_attempted),
            "completion": _rate(delivered, attempted),
            "read": _rate(read, by_outcome[R.VIBER_DELIVERED]),
        },
        "progress": _rate(total - by_outcome[R.PENDING], total),
        "timeline": _deliveries_over_time(recipients),
        "time_to_delivery": _time_to_delivery(campaign),
    }


def _deliveries_over_time(recipients) -> dict:
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
        return {"bucket_seconds": 0, "start": None, "buckets": []}
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
    return {"bucket_seconds": bucket, "start": start, "buckets": series}


class EpochBucket(Func):
    """Seconds since the epoch, rounded down to a multiple of `size`."""

    output_field = IntegerField()

    def __init__(self, expression, size: int):
        self.size = int(size)
        super().__init__(expression)

    def as_postgresql(self, compiler, connection):
        template = (
            f"(floor(extract(epoch from %(expressions)s) / {self.size})"
            f" * {self.size})::bigint"
        )
        return self.as_sql(compiler, connection, template=template)

    def as_sqlite(self, compiler, connection):
        # Four percent signs: one pair for this template, one for the driver.
        template = (
            f"(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
            f" / {self.size} * {self.size})"
        )
        return self.as_sql(compiler, connection, template=template)


class IsoTimestamp(Func):
    """A time as ISO 8601 text in UTC, e.g. 2026-05-04T10:00:10.000000+00:00."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection):
        template = (
            "to_char(%(expressions)s AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')'
        )
        return self.as_sql(compiler, connection, template=template)

    def as_sqlite(self, compiler, connection):
        # Django keeps SQLite times as UTC text with microseconds.
        template = (
            "CASE WHEN %(expressions)s IS NULL THEN NULL ELSE "
            "replace(%(expressions)s, ' ', 'T') || '+00:00' END"
        )
        return self.as_sql(compiler, connection, template=template)


PERCENTILES = (("median", 0.5), ("p90", 0.9))


def _time_to_delivery(campaign: Campaign) -> dict:
    """Median and 90th percentile of sent → delivered, in seconds, per channel.

    Nearest-rank percentiles (the smallest time that at least p of the
    deliveries took no longer than), the same on both databases.
    """

    table = Recipient._meta.db_table
    channels = {
        "viber": Recipient.Outcome.VIBER_DELIVERED,
        "sms": Recipient.Outcome.SMS_DELIVERED,
    }
    result = {name: {"count": 0, "median": None, "p90": None} for name in channels}
    # Table names come from model metadata; every value is a parameter.
    where = (
        f"FROM {table} WHERE campaign_id = %s AND is_test = %s AND outcome = %s"
        " AND delivered_at IS NOT NULL AND sent_at IS NOT NULL"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql = (
                "SELECT outcome, count(*), percentile_disc(ARRAY[0.5, 0.9]) WITHIN"  # noqa: S608
                " GROUP (ORDER BY extract(epoch from delivered_at - sent_at))"
                f" FROM {table} WHERE campaign_id = %s AND is_test = false"
                " AND outcome IN (%s, %s) AND delivered_at IS NOT NULL"
                " AND sent_at IS NOT NULL GROUP BY outcome"
            )
            cursor.execute(sql, [campaign.pk, *channels.values()])
            by_outcome = {row[0]: row for row in cursor.fetchall()}
            for channel, outcome in channels.items():
                if outcome in by_outcome:
                    _, count, (median, p90) = by_outcome[outcome]
                    result[channel] = {
                        "count": count,
                        "median": float(median),
                        "p90": float(p90),
                    }
            return result
        seconds = "(julianday(delivered_at) - julianday(sent_at)) * 86400.0"
        for channel, outcome in channels.items():
            cursor.execute(f"SELECT count(*) {where}", [campaign.pk, False, outcome])
            count = cursor.fetchone()[0]
            result[channel]["count"] = count
            for name, share in PERCENTILES:
                if not count:
                    continue
                cursor.execute(
                    f"SELECT {seconds} {where} ORDER BY 1 LIMIT 1 OFFSET %s",
                    [campaign.pk, False, outcome, max(math.ceil(share * count) - 1, 0)],
                )
                result[channel][name] = round(cursor.fetchone()[0], 3)
    return result


def measured_fallback_rate() -> float | None:
    """The fallback rate over finished campaigns, weighted by their size."""

    totals = CampaignReport.objects.filter(
        campaign__status=Campaign.Status.COMPLETED,
        campaign__sms_only=False,
        fallback_rate__isnull=False,
    ).aggregate(
        fell_back=Sum(F("fallback_rate") * F("recipients")),
        recipients=Sum("recipients"),
    )
    if not totals["recipients"]:
        return None
    return totals["fell_back"] / totals["recipients"]


def _money(amount: float) -> str:
    return f"{amount:,.2f}"


def _message_prices(campaign: Campaign) -> tuple[float, float, int] | None:
    """(price of a Viber message, price of one of its SMS, SMS segments), the
    SMS counted on the text before personalisation; None without prices."""
    segments = sms_segments(campaign.sms_text).segments
    viber_price = settings.PRICE_VIBER_MESSAGE
    sms_price = settings.PRICE_SMS_SEGMENT * segments
    if not (viber_price or sms_price):
        return None
    return viber_price, sms_price, segments


def campaign_cost_estimate(*, campaign: Campaign, targeted: int) -> dict | None:
    """What a launch to `targeted` recipients is expected to cost; None when
    no prices are configured."""
    prices = _message_prices(campaign)
    if prices is None:
        return None
    viber_price, sms_price, _ = prices
    if campaign.sms_only:
        viber, sms_share, measured = 0, 1.0, None
    else:
        viber = targeted * viber_price
        measured = measured_fallback_rate()
        sms_share = (
            measured if measured is not None else settings.ESTIMATED_FALLBACK_RATE
        )
        if not campaign.sms_fallback_enabled:
            sms_share = 0.0
    sms = targeted * sms_share * sms_price
    worst = viber + (targeted * sms_price if campaign.sms_fallback_enabled else sms)
    return {
        "currency": settings.PRICE_CURRENCY,
        "viber": _money(viber),
        "sms": _money(sms),
        "total": _money(viber + sms),
        "worst": _money(worst),
        "fallback_share": sms_share,
        "fallback_share_measured": measured is not None,
    }


def campaign_cost_actual(*, campaign: Campaign, figures: dict) -> dict | None:
    """What was sent, priced: one Viber message per Viber attempt, the SMS
    text's segments (before personalisation) per SMS attempt."""
    prices = _message_prices(campaign)
    if prices is None:
        return None
    viber_price, sms_price, segments = prices
    attempts = figures.get("attempts", {})
    viber = attempts.get("viber", 0) * viber_price
    sms = attempts.get("sms", 0) * sms_price
    return {
        "currency": settings.PRICE_CURRENCY,
        "viber_messages": attempts.get("viber", 0),
        "sms_messages": attempts.get("sms", 0),
        "sms_segments": segments,
        "viber": _money(viber),
        "sms": _money(sms),
        "total": _money(viber + sms),
    }


# Header → field, in the order of the columns of the recipients export.
RECIPIENT_EXPORT_COLUMNS = [
    ("phone", "phone"),
    ("name", "contact__name"),
    ("outcome", "outcome"),
    ("final channel", "last_channel"),
    ("send status", "send_status"),
    ("suppression reason", "suppression_reason"),
    ("failure reason", "failure_reason"),
    ("status code", "status_code"),
    ("status description", "status_description"),
    ("viber code", "viber__status_code"),
    ("viber description", "viber__status_description"),
    ("viber updated", "viber__updated_on"),
    ("sms code", "sms__status_code"),
    ("sms description", "sms__status_description"),
    ("sms updated", "sms__updated_on"),
    ("sent at", "sent_at"),
    ("delivered at", "delivered_at"),
    ("read at", "read_at"),
    ("opted out at", "opted_out_at"),
    ("external id", "external_id"),
    ("reference id", "reference_id"),
]


def _export_time_column(field: str) -> bool:
    return field.endswith(("_at", "updated_on"))


def _exported_recipients(*, campaign: Campaign, outcome: str | None) -> QuerySet:
    """The recipients an export lists, with their Viber and SMS attempts
    joined as `viber` and `sms`."""
    recipients = Recipient.objects.filter(campaign=campaign, is_test=False)
    if outcome:
        recipients = recipients.filter(outcome=outcome)
    return recipients.annotate(
        viber=FilteredRelation("attempts", condition=Q(attempts__channel="viber")),
        sms=FilteredRelation("attempts", condition=Q(attempts__channel="sms")),
    )


def campaign_recipients_export(
    *, campaign: Campaign, outcome: str | None = None, chunk_size: int = 10000
):
    """(header, rows) of a campaign's recipients, one row per recipient in id
    order, with each channel's code, description and time beside it.

    Rows are read with a server-side cursor in chunks, so any size streams.
    """
    fields = [field for _, field in RECIPIENT_EXPORT_COLUMNS]
    # Times leave the database already written out: no datetime objects to
    # build and format per cell, which is most of a large export's cost.
    as_text = {
        field: f"text_{index}"
        for index, field in enumerate(fields)
        if _export_time_column(field)
    }
    queryset = (
        _exported_recipients(campaign=campaign, outcome=outcome)
        .annotate(**{alias: IsoTimestamp(field) for field, alias in as_text.items()})
        .order_by("id")
        .values_list(*(as_text.get(field, field) for field in fields))
    )
    outcome_index = fields.index("outcome")
    labels = dict(Recipient.Outcome.choices)

    def rows():
        for row in queryset.iterator(chunk_size=chunk_size):
            row = list(row)
            row[outcome_index] = labels.get(row[outcome_index], row[outcome_index])
            yield row

    return [header for header, _ in RECIPIENT_EXPORT_COLUMNS], rows()


def campaign_recipients_export_copy(
    *, campaign: Campaign, outcome: str | None = None
) -> Iterator[bytes]:
    """The same export as CSV written by PostgreSQL itself (COPY … TO STDOUT),
    header row included: outcome labels, times and formula-safe cells are made
    in the query, so no row passes through Python. PostgreSQL only."""
    fields = [field for _, field in RECIPIENT_EXPORT_COLUMNS]
    text = set(recipient_export_text_columns())
    labels = Case(
        *[
            When(outcome=value, then=Value(label))
            for value, label in Recipient.Outcome.choices
        ],
        default=F("outcome"),
        output_field=CharField(),
    )
    columns = {}
    for index, field in enumerate(fields):
        if field == "outcome":
            expression = labels
        elif _export_time_column(field):
            expression = IsoTimestamp(field)
        elif index in text:
            expression = CsvSafeText(field)
        else:
            expression = F(field)
        columns[f"column_{index}"] = expression
    queryset = (
        _exported_recipients(campaign=campaign, outcome=outcome)
        .annotate(**columns)
        .order_by("id")
        .values_list(*columns)
    )
    sql, params = queryset.query.sql_with_params()
    header = [name for name, _ in RECIPIENT_EXPORT_COLUMNS]
    yield "".join(csv_stream(header, [])).encode()  # BOM and header row
    with connection.cursor() as cursor:
        statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
        with cursor.cursor.copy(statement, params) as copy:
            # COPY hands over a row at a time: pass on large pieces instead.
            pending = bytearray()
            for block in copy:
                pending += block
                if len(pending) >= 256 * 1024:
                    yield bytes(pending)
                    pending.clear()
            yield bytes(pending)


def campaign_recipients_csv(
    *, campaign: Campaign, outcome: str | None = None
) -> Iterator[str | bytes]:
    """The recipients export as CSV pieces: written by the database on
    PostgreSQL (several times faster), by Python elsewhere."""
    if connection.vendor == "postgresql":
        return campaign_recipients_export_copy(campaign=campaign, outcome=outcome)
    header, rows = campaign_recipients_export(campaign=campaign, outcome=outcome)
    return csv_stream(header, rows, text_columns=recipient_export_text_columns())


def recipient_export_text_columns() -> list[int]:
    """Export columns that can hold text from outside: contact data and
    Telesign's descriptions (and, to be safe, every id)."""
    numeric_or_ours = {
        "outcome",
        "last_channel",
        "send_status",
        "suppression_reason",
        "status_code",
        "viber__status_code",
        "sms__status_code",
    }
    return [
        index
        for index, (_, field) in enumerate(RECIPIENT_EXPORT_COLUMNS)
        if field not in numeric_or_ours and not _export_time_column(field)
    ]


# --- Follow-ups -----------------------------------------------------------------

RESENDABLE = {
    "failed": (Recipient.Outcome.FAILED,),
    "failed_or_pending": (Recipient.Outcome.FAILED, Recipient.Outcome.PENDING),
}


def campaign_follow_up_recipients(
    *, campaign: Campaign, include_pending: bool, recipients: QuerySet | None = None
) -> QuerySet[Recipient]:
    """Who a follow-up of `campaign` may message: failed (and, if asked, still
    pending) recipients, never one delivered, opted out, or a test send."""
    outcomes = RESENDABLE["failed_or_pending" if include_pending else "failed"]
    queryset = recipients if recipients is not None else Recipient.objects.all()
    return queryset.filter(
        campaign=campaign,
        is_test=False,
        outcome__in=outcomes,
        contact__opted_out_at__isnull=True,
        opted_out_at__isnull=True,
    ).exclude(send_status__in=Recipient.ACTIVE_SEND_STATUSES)


@dataclass(frozen=True)
class TimelineStep:
    at: datetime
    text: str
    url: str = ""


def recipient_timeline(*, recipient: Recipient, limit: int = 200) -> list[TimelineStep]:
    """One message's story: created, sent, each channel's last status, each
    callback received (linked to its raw body), delivered, read, opted out."""
    from django.urls import reverse

    from .models import CallbackEvent

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
    events = CallbackEvent.objects.filter(recipient=recipient).order_by("received_at")
    for event in events[:limit]:
        steps.append(
            TimelineStep(
                event.received_at,
                f"Callback received: {event.get_kind_display().lower()}, "
                f"code {event.status_code or '—'} ({event.get_processing_display()})",
                reverse("admin:campaigns_callbackevent_change", args=[event.pk]),
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


# --- Health ---------------------------------------------------------------------


def system_health(*, now: datetime | None = None, check_workers: bool = True) -> dict:
    """The database and the task workers, as a load balancer or a monitor
    wants them: `ok` is False when either is down."""
    from django.db import DatabaseError
    from django.utils import timezone

    from .models import EngineState, WorkerHeartbeat

    now = now or timezone.now()
    health: dict = {"ok": True, "database": {"ok": True}}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        health["ok"] = False
        health["database"] = {"ok": False, "error": exc.__class__.__name__}
        return health
    if not check_workers:
        return health
    stale_after = settings.WORKER_HEARTBEAT_SECONDS * 3
    newest = WorkerHeartbeat.objects.order_by("-last_seen_at").first()
    live = WorkerHeartbeat.objects.filter(
        last_seen_at__gte=now - timedelta(seconds=stale_after)
    ).count()
    tick = EngineState.objects.filter(pk=1).values_list("last_tick_at", flat=True)
    last_tick = tick.first() if tick else None
    health["workers"] = {
        "ok": live > 0,
        "live": live,
        "last_heartbeat": newest.last_seen_at.isoformat() if newest else None,
        "last_heartbeat_age_seconds": (
            round((now - newest.last_seen_at).total_seconds(), 1) if newest else None
        ),
        "engine_tick_age_seconds": (
            round((now - last_tick).total_seconds(), 1) if last_tick else None
        ),
    }
    waiting = CallbackEvent.objects.filter(
        processing=CallbackEvent.Processing.RECEIVED
    ).aggregate(count=Count("id"), oldest=Min("received_at"))
    health["callbacks_waiting"] = {
        "count": waiting["count"],
        "oldest_age_seconds": (
            round((now - waiting["oldest"]).total_seconds(), 1)
            if waiting["oldest"]
            else None
        ),
    }
    health["ok"] = live > 0
    return health
