"""Marketer pages speak of the product: lists titled by what they list, no
setting names, worker ids or internal message ids."""

import re

import pytest
from django.urls import reverse

from campaigns.models import Recipient

from ..report_helpers import finished_campaign

pytestmark = pytest.mark.django_db

SETTING_NAME = re.compile(r"\b[A-Z]{3,}(?:_[A-Z]+)+\b")


def visible_text(html: str) -> str:
    """The page's text and attribute values a person may read, without the
    markup's names and the scripts."""
    html = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    ("model", "title"),
    [
        ("campaign", "Campaigns"),
        ("audience", "Audiences"),
        ("contact", "Contacts"),
        ("imageasset", "Images"),
        ("recipient", "Recipients"),
    ],
)
def test_lists_are_titled_by_what_they_list(marketer_client, model, title):
    html = marketer_client.get(
        reverse(f"admin:campaigns_{model}_changelist")
    ).content.decode()

    assert f"<h1>{title}</h1>" in html
    assert f"<title>{title} | " in html
    assert not re.search(r"Select \w+ to (change|view)", html)


def test_campaign_and_report_pages_name_no_settings(marketer_client, settings):
    settings.FOUR_EYES_LAUNCH = False
    settings.PRICE_VIBER_MESSAGE = settings.PRICE_SMS_SEGMENT = 0
    campaign, _ = finished_campaign()
    for url in (
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        reverse("admin:campaigns_campaign_report", args=[campaign.pk]),
    ):
        text = visible_text(marketer_client.get(url).content.decode())
        assert SETTING_NAME.findall(text) == [], url


def test_a_recipients_page_hides_the_engines_bookkeeping_from_a_marketer(
    marketer_client, admin_client
):
    _, rows = finished_campaign()
    recipient = rows["read"]
    Recipient.objects.filter(pk=recipient.pk).update(claimed_by="vm:13819:f7dde1a0")
    url = reverse("admin:campaigns_recipient_change", args=[recipient.pk])

    marketer_page = marketer_client.get(url).content.decode()
    admin_page = admin_client.get(url).content.decode()

    for engine_word in ("vm:13819:f7dde1a0", "External id", "Claimed by"):
        assert engine_word not in marketer_page
        assert engine_word in admin_page  # folded under "Sending engine details"
    assert "Delivered" in marketer_page  # the message's own story stays
