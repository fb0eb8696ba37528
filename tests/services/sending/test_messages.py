"""The message as it reaches Telesign."""

import json

import pytest

from campaigns.services import sending

from ...factories import make_campaign
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
