"""What a campaign costs at the configured prices: estimated before launch
(with the fallback rate measured on finished campaigns once there are any),
and actual from the channel attempts made."""

from django.conf import settings
from django.db.models import F, Sum

from ..models import Campaign, CampaignReport
from ..sms import sms_segments
from .reports import ReportFigures


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


def campaign_cost_actual(*, campaign: Campaign, figures: ReportFigures) -> dict | None:
    """What was sent, priced: one Viber message per Viber attempt, the SMS
    text's segments (before personalisation) per SMS attempt."""
    prices = _message_prices(campaign)
    if prices is None:
        return None
    viber_price, sms_price, segments = prices
    attempts = figures.attempts
    viber = attempts.viber * viber_price
    sms = attempts.sms * sms_price
    return {
        "currency": settings.PRICE_CURRENCY,
        "viber_messages": attempts.viber,
        "sms_messages": attempts.sms,
        "sms_segments": segments,
        "viber": _money(viber),
        "sms": _money(sms),
        "total": _money(viber + sms),
    }
