"""The report page's building blocks: its tiles and table rows, from its figures.

Every number becomes a link to the recipients (or channel attempts) it
counts, filtered the way the figure counts them, so a marketer can always
open the rows behind a figure.
"""

from dataclasses import asdict
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.urls import reverse

from ..charts import percent, timeline_clock
from ..models import Campaign, Channel, Recipient
from ..selectors import ReportFigures, Timeline
from ..telesign.codes import status_code_info


def recipients_url(campaign_id: int, **filters) -> str:
    """The recipient list of one campaign, filtered as a report figure counts."""
    query = {"campaign__id__exact": campaign_id, "is_test__exact": "0", **filters}
    return f"{reverse('admin:campaigns_recipient_changelist')}?{urlencode(query)}"


def attempts_url(campaign_id: int, **filters) -> str:
    """The channel attempts of one campaign, filtered as a status-code row counts."""
    query = {
        "recipient__campaign__id__exact": campaign_id,
        "recipient__is_test": "0",
        **filters,
    }
    return f"{reverse('admin:campaigns_channelattempt_changelist')}?{urlencode(query)}"


def seconds_text(value: float | None) -> str:
    """A duration in the unit a person would use: seconds, minutes or hours."""
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def report_tiles(campaign: Campaign, figures: ReportFigures) -> list[dict]:
    """The report's headline numbers, each with the recipients it counts."""
    return [
        *_reach_tiles(campaign, figures),
        *_delivery_tiles(campaign, figures),
        *_unfinished_tiles(campaign, figures),
        *_cancelled_tiles(campaign, figures),
    ]


def _reach_tiles(campaign: Campaign, figures: ReportFigures) -> list[dict]:
    """Whom the campaign was for, whom it left out and whom it sent to."""
    pk = campaign.pk
    O = Recipient.Outcome  # noqa: E741 - short alias for a long enum
    suppressed = figures.suppressed
    return [
        {
            "key": "audience",
            "label": "Audience",
            "value": figures.recipients,
            "detail": f"{campaign.audience_duplicates} duplicate(s) merged",
            "url": recipients_url(pk),
        },
        {
            "key": "suppressed",
            "label": "Suppressed",
            "value": figures.suppressed_total,
            "detail": (
                f"{suppressed['opted_out']} opted out · "
                f"{suppressed['invalid']} invalid · "
                f"{suppressed['duplicate']} duplicate"
            ),
            "url": recipients_url(pk, outcome__exact=O.SUPPRESSED),
        },
        {
            "key": "attempted",
            "label": "Attempted",
            "value": figures.attempted,
            "detail": "sent to Telesign",
            "url": recipients_url(pk, attempted="yes"),
        },
    ]


def _delivery_tiles(campaign: Campaign, figures: ReportFigures) -> list[dict]:
    """What reached people, on Viber or by SMS."""
    pk = campaign.pk
    O = Recipient.Outcome  # noqa: E741
    return [
        {
            "key": "viber_delivered",
            "label": "Delivered on Viber",
            "value": figures.viber_delivered,
            "detail": percent(figures.rates.viber_delivery) + " of attempted",
            "url": recipients_url(pk, outcome__exact=O.VIBER_DELIVERED),
            "color": "viber",
        },
        {
            "key": "read",
            "label": "Read on Viber",
            "value": figures.read,
            "detail": percent(figures.rates.read) + " of Viber deliveries",
            "url": recipients_url(pk, read="yes"),
            "color": "read",
        },
        {
            "key": "sms_delivered",
            "label": (
                "Delivered by SMS"
                if not campaign.sends_viber
                else "Fell back, SMS delivered"
            ),
            "value": figures.sms_delivered,
            "detail": _sms_detail(campaign, figures),
            "url": recipients_url(pk, outcome__exact=O.SMS_DELIVERED),
            "color": "sms",
        },
    ]


def _sms_detail(campaign: Campaign, figures: ReportFigures) -> str:
    if not campaign.sends_viber:
        return "sent by SMS only, without Viber"
    if not campaign.sends_sms:
        return "no SMS fallback"
    return f"{figures.fell_back} fell back to SMS"


def _unfinished_tiles(campaign: Campaign, figures: ReportFigures) -> list[dict]:
    """What did not reach anyone, or has no final answer yet."""
    pk = campaign.pk
    O = Recipient.Outcome  # noqa: E741
    return [
        {
            "key": "failed",
            "label": "Failed",
            "value": figures.failed,
            "detail": f"{len(figures.failure_reasons)} reason(s), below",
            "url": recipients_url(pk, outcome__exact=O.FAILED),
            "color": "failed",
        },
        {
            "key": "pending",
            "label": "Still pending",
            "value": figures.pending,
            "detail": f"{figures.pending_not_sent} not sent yet",
            "url": recipients_url(pk, outcome__exact=O.PENDING),
            "color": "pending",
        },
        {
            "key": "unconfirmed",
            "label": "Unconfirmed",
            "value": figures.unconfirmed,
            "detail": "Telesign's answer was lost; waiting for a callback",
            "url": recipients_url(
                pk,
                send_status__exact=Recipient.SendStatus.UNCONFIRMED,
                outcome__exact=O.PENDING,
            ),
        },
        *_reconciled_tiles(campaign, figures),
    ]


def _reconciled_tiles(campaign: Campaign, figures: ReportFigures) -> list[dict]:
    """Recipients sent again because no callback came after an unconfirmed
    send, if any."""
    if not figures.reconciled:
        return []
    return [
        {
            "key": "reconciled",
            "label": "Sent again",
            "value": figures.reconciled,
            "detail": "unconfirmed and no callback came: sent again, same external id",
            "url": recipients_url(campaign.pk, reconciled_at__isnull="False"),
        }
    ]


def _cancelled_tiles(campaign: Campaign, figures: ReportFigures) -> list[dict]:
    """The recipients a cancellation kept from being messaged, if any."""
    pk = campaign.pk
    O = Recipient.Outcome  # noqa: E741
    if not figures.outcomes.get(O.CANCELLED):
        return []
    return [
        {
            "key": "cancelled",
            "label": "Not sent (cancelled)",
            "value": figures.outcomes[O.CANCELLED],
            "detail": "the campaign was cancelled",
            "url": recipients_url(pk, outcome__exact=O.CANCELLED),
        }
    ]


def outcome_rows(figures: ReportFigures) -> list[tuple[str, int, str]]:
    """The outcome chart's bars: label, count and colour key."""
    outcomes = figures.outcomes
    O = Recipient.Outcome  # noqa: E741
    return [
        ("Delivered on Viber", outcomes[O.VIBER_DELIVERED], "viber"),
        ("Delivered by SMS", outcomes[O.SMS_DELIVERED], "sms"),
        ("Failed", outcomes[O.FAILED], "failed"),
        ("Pending", outcomes[O.PENDING], "pending"),
        ("Suppressed", outcomes[O.SUPPRESSED], "suppressed"),
        ("Cancelled", outcomes[O.CANCELLED], "cancelled"),
    ]


def code_rows(campaign: Campaign, figures: ReportFigures) -> list[dict]:
    """Telesign's status codes per channel, described and linked to the attempts."""
    rows = []
    for row in figures.codes:
        known = status_code_info(row.code)
        rows.append(
            {
                **asdict(row),
                "channel_label": Channel(row.channel).label,
                "description": row.description or known.description,
                "kind": known.kind,
                "url": attempts_url(
                    campaign.pk,
                    channel__exact=row.channel,
                    **(
                        {"status_code__exact": row.code}
                        if row.code is not None
                        else {"status_code__isnull": "True"}
                    ),
                ),
            }
        )
    return rows


def timeline_rows(campaign: Campaign, timeline: Timeline) -> list[dict]:
    """The chart's numbers as table rows, each count linked to its recipients."""
    size = timeline.bucket_seconds
    rows = []
    for epoch, viber, sms in timeline.buckets:
        period = {
            "delivered_at__gte": datetime.fromtimestamp(epoch, tz=UTC).isoformat(),
            "delivered_at__lt": datetime.fromtimestamp(
                epoch + size, tz=UTC
            ).isoformat(),
        }
        by_channel = {
            channel: recipients_url(campaign.pk, outcome__exact=outcome, **period)
            for channel, outcome in (
                ("viber", Recipient.Outcome.VIBER_DELIVERED),
                ("sms", Recipient.Outcome.SMS_DELIVERED),
            )
        }
        rows.append(
            {
                "start": timeline_clock(epoch, size),
                "viber": viber,
                "sms": sms,
                "viber_url": by_channel["viber"],
                "sms_url": by_channel["sms"],
            }
        )
    return rows
