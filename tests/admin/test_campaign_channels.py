"""Every page says how a campaign reaches people: Viber with SMS fallback,
Viber only, or SMS only (a resend by SMS never claims to be a Viber send)."""

import pytest
from django.urls import reverse

from campaigns.models import Campaign

from ..factories import make_audience, make_campaign, make_contact

pytestmark = pytest.mark.django_db

VIBER_WITH_FALLBACK = {"sms_fallback_enabled": True, "sms_only": False}
VIBER_ONLY = {"sms_fallback_enabled": False, "sms_only": False}
SMS_ONLY = {"sms_fallback_enabled": False, "sms_only": True}

# What each kind of campaign must say, and what it must never say.
SAYS = {
    "viber_sms": (
        VIBER_WITH_FALLBACK,
        [
            "Viber, with SMS fallback",
            "an SMS follows if Viber has not delivered within 120 s",
        ],
        ["No SMS fallback", "without Viber will not be reached", "SMS only"],
    ),
    "viber": (
        VIBER_ONLY,
        ["Viber only", "recipients without Viber will not be reached"],
        ['sms">SMS fallback</header>', "an SMS follows", "SMS only"],
    ),
    "sms": (
        SMS_ONLY,
        ["SMS only", "every recipient gets the SMS; Viber is not tried"],
        [
            "No SMS fallback",
            "without Viber will not be reached",
            "on Viber",
            "Viber only",
            "SMS fallback",
        ],
    ),
}


@pytest.fixture(params=list(SAYS))
def kind(request):
    return request.param


@pytest.fixture
def campaign(kind):
    fields, _, _ = SAYS[kind]
    audience = make_audience(contacts=[make_contact(name="Ana Lima")])
    return make_campaign([audience], fallback_time=120, **fields)


def page(client, name: str, campaign: Campaign) -> str:
    response = client.get(
        reverse(f"admin:campaigns_campaign_{name}", args=[campaign.pk])
    )
    assert response.status_code == 200
    return response.content.decode()


# Where each page describes the channels (the change form around it also
# holds the switches themselves, whose labels name every mode).
REGIONS = {
    "preview": ('id="preview-channels"', "Personalised for"),
    "launch": ('<ul id="launch-summary">', "</ul>"),
    "change": ("field-channels_summary", "field-sms_fallback_enabled"),
}


@pytest.mark.parametrize("name", list(REGIONS))
def test_pages_describe_the_campaigns_channels(admin_client, campaign, kind, name):
    html = page(admin_client, name, campaign)
    start, end = REGIONS[name]
    html = html[html.index(start) : html.index(end, html.index(start))]
    _, says, never = SAYS[kind]
    for words in says:
        assert words in html, f"{name} of a {kind} campaign lacks “{words}”"
    for words in never:
        assert words not in html, f"{name} of a {kind} campaign says “{words}”"


def test_preview_of_an_sms_only_campaign_shows_the_sms_and_no_viber_message(
    admin_client,
):
    audience = make_audience(contacts=[make_contact(name="Ana Lima")])
    campaign = make_campaign([audience], **SMS_ONLY)
    html = page(admin_client, "preview", campaign)
    assert 'id="viber-image"' not in html
    assert "Hi Ana, 2 for 1 today only!" in html
    assert "Sent to every recipient, without Viber" in html


def test_report_names_the_channels_of_an_sms_only_resend(admin_client):
    audience = make_audience(contacts=[make_contact(name="Ana Lima")])
    campaign = make_campaign([audience], status=Campaign.Status.COMPLETED, **SMS_ONLY)
    html = page(admin_client, "report", campaign)
    assert '<span id="report-channels">SMS only</span>' in html
    assert "sent by SMS only, without Viber" in html
    assert "fell back to SMS" not in html


def test_cost_estimate_of_an_sms_only_campaign_has_no_fallback_rate(
    admin_client, settings
):
    settings.PRICE_VIBER_MESSAGE, settings.PRICE_SMS_SEGMENT = 0.01, 0.05
    audience = make_audience(contacts=[make_contact(name="Ana Lima")])
    campaign = make_campaign([audience], **SMS_ONLY)
    html = page(admin_client, "change", campaign)
    assert "0.05 EUR for 1 recipient(s): an SMS to each (SMS only)." in html
    estimate = html[html.index('<span data-live="cost">') :]
    estimate = estimate[: estimate.index("</span>")]
    assert "fallback" not in estimate
