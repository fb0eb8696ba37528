"""The message as it reaches Telesign, and the one that never does: an SMS
empty once personalised."""

import json

import pytest

from campaigns.models import Campaign, Contact, Recipient
from campaigns.selectors import campaign_report_figures
from campaigns.services import sending

from ...factories import make_campaign
from ...sandbox_helpers import ledger
from .helpers import audience_of, fast_client, run

pytestmark = pytest.mark.django_db


def test_personalised_sms_and_image_url_reach_telesign(sandbox):
    campaign = make_campaign([audience_of(1)], sms_text="Hi {first_name}!")
    sending.campaign_launch(campaign=campaign)
    captured = []
    client = fast_client()
    real = client.post_omnichannel_once
    client.post_omnichannel_once = lambda body: captured.append(body) or real(body)
    run(campaign, client=client)

    sent = json.loads(captured[0])
    assert sent["message"]["sms"]["parameters"]["text"] == "Hi Person!"
    assert sent["message"]["viber"]["parameters"]["url"] == campaign.image.public_url
    assert sent["phone_number"] == "447911100000"  # digits only, no "+"


def test_fallbacks_reach_telesign_and_an_empty_sms_is_never_sent(sandbox):
    # 25 contacts whose nickname is blank, 5 with one: the text is only the
    # nickname, so 25 would be empty (Telesign refuses them: 3305).
    blank = audience_of(25, attributes={"nickname": " "})
    named = audience_of(5, start=100, attributes={"nickname": "Bo"})
    campaign = make_campaign([blank, named], sms_text="{nickname}")
    follow = make_campaign([named], sms_text="Hi {nickname|there}!")
    sending.campaign_launch(campaign=campaign)

    summary = run(campaign)

    assert ledger(sandbox)["requests"] == 5 and summary.accepted == 5
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED  # never auto-paused
    failed = Recipient.objects.filter(campaign=campaign, outcome="failed")
    assert failed.count() == 25
    assert set(failed.values_list("send_status", "sent_at", "failure_reason")) == {
        (Recipient.SendStatus.SKIPPED, None, sending.EMPTY_SMS_REASON)
    }
    figures = campaign_report_figures(campaign=campaign)
    assert (figures.failed, figures.attempted) == (25, 5)
    assert figures.failure_reasons[0] == (sending.EMPTY_SMS_REASON, 25)

    Recipient.objects.filter(campaign=campaign).delete()
    Contact.objects.filter(audiences=named).update(attributes={"nickname": ""})
    sending.campaign_launch(campaign=follow)
    client = fast_client()
    captured = []
    real = client.post_omnichannel_once
    client.post_omnichannel_once = lambda body: captured.append(body) or real(body)
    run(follow, client=client)
    texts = {json.loads(b)["message"]["sms"]["parameters"]["text"] for b in captured}
    assert texts == {"Hi there!"}
