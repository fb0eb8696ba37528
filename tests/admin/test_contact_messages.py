"""A contact's page lists every message campaigns sent them: campaign,
channel, outcome and whether it was read."""

import re

import pytest
from django.urls import reverse

from campaigns.models import Recipient

from ..factories import make_campaign, make_contact
from ..report_helpers import at, finished_campaign, make_recipient

pytestmark = pytest.mark.django_db


def messages_table(html: str) -> str:
    match = re.search(r'<table class="contact-messages">.*?</table>', html, re.S)
    assert match
    return match.group(0)


def test_the_contact_page_lists_each_campaigns_message_with_outcome_and_read(
    marketer_client,
):
    campaign, rows = finished_campaign()
    contact = rows["read"].contact
    later = make_campaign(name="Summer sale")
    make_recipient(
        later,
        contact,
        outcome=Recipient.Outcome.SMS_DELIVERED,
        last_channel="sms",
        send_status="accepted",
        sent_at=at(3600),
    )

    html = marketer_client.get(
        reverse("admin:campaigns_contact_change", args=[contact.pk])
    ).content.decode()

    table = messages_table(html)
    summer, spring = re.findall(r"<tr><td>.*?</tr>", table)
    assert "Summer sale" in summer and "SMS" in summer
    assert "Delivered by SMS fallback" in summer and summer.endswith("<td>—</td></tr>")
    assert campaign.name in spring and "Viber" in spring
    assert "Delivered on Viber" in spring and "2026-05-04 10:01" in spring  # read
    assert reverse("admin:campaigns_recipient_change", args=[rows["read"].pk]) in spring


def test_a_contact_never_messaged_says_so(marketer_client):
    contact = make_contact()
    html = marketer_client.get(
        reverse("admin:campaigns_contact_change", args=[contact.pk])
    ).content.decode()
    assert "No campaign has messaged this contact yet." in html
