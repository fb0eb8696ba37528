"""Cost: estimated before launch, actual from the channel attempts made."""

import pytest
from django.utils import timezone

from campaigns import selectors
from campaigns.models import Campaign, CampaignReport

from ..factories import make_campaign

pytestmark = pytest.mark.django_db


def test_actual_cost_prices_each_channel_attempt(finished, settings):
    settings.PRICE_VIBER_MESSAGE = 0.01
    settings.PRICE_SMS_SEGMENT = 0.05
    settings.PRICE_CURRENCY = "EUR"
    campaign, _ = finished
    figures = selectors.campaign_report_figures(campaign=campaign)
    cost = selectors.campaign_cost_actual(campaign=campaign, figures=figures)
    assert cost["viber_messages"] == 6 and cost["sms_messages"] == 3
    assert (cost["viber"], cost["sms"], cost["total"]) == ("0.06", "0.15", "0.21")


def test_cost_estimate_uses_the_measured_fallback_rate_once_known(settings):
    settings.PRICE_VIBER_MESSAGE = 0.01
    settings.PRICE_SMS_SEGMENT = 0.05
    settings.ESTIMATED_FALLBACK_RATE = 0.5
    draft = make_campaign(sms_text="Hi")
    estimate = selectors.campaign_cost_estimate(campaign=draft, targeted=100)
    assert estimate["fallback_share_measured"] is False
    assert (estimate["viber"], estimate["sms"], estimate["total"]) == (
        "1.00",
        "2.50",
        "3.50",
    )
    assert estimate["worst"] == "6.00"
    done = make_campaign(status=Campaign.Status.COMPLETED)
    CampaignReport.objects.create(
        campaign=done, computed_at=timezone.now(), recipients=100, fallback_rate=0.2
    )
    estimate = selectors.campaign_cost_estimate(campaign=draft, targeted=100)
    assert estimate["fallback_share_measured"] is True
    assert estimate["sms"] == "1.00"


def test_no_prices_means_no_cost_rather_than_zero(finished, settings):
    settings.PRICE_VIBER_MESSAGE = 0
    settings.PRICE_SMS_SEGMENT = 0
    campaign, _ = finished
    assert selectors.campaign_cost_estimate(campaign=campaign, targeted=5) is None


def test_an_sms_only_campaign_is_estimated_at_one_sms_each(settings):
    settings.PRICE_VIBER_MESSAGE = 0.01
    settings.PRICE_SMS_SEGMENT = 0.05
    campaign = make_campaign(sms_only=True, sms_text="Hi")
    estimate = selectors.campaign_cost_estimate(campaign=campaign, targeted=10)
    assert (estimate["viber"], estimate["sms"], estimate["worst"]) == (
        "0.00",
        "0.50",
        "0.50",
    )
    assert estimate["fallback_share"] == 1.0


def test_the_measured_fallback_rate_is_weighted_by_campaign_size():
    for recipients, rate in ((100, 0.1), (300, 0.5)):
        CampaignReport.objects.create(
            campaign=make_campaign(status=Campaign.Status.COMPLETED),
            computed_at=timezone.now(),
            recipients=recipients,
            fallback_rate=rate,
        )
    # Neither a campaign still sending nor an SMS-only one counts.
    CampaignReport.objects.create(
        campaign=make_campaign(status=Campaign.Status.SENDING),
        computed_at=timezone.now(),
        recipients=1000,
        fallback_rate=1.0,
    )
    assert selectors.measured_fallback_rate() == pytest.approx(0.4)
