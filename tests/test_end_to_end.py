"""Launch → sandbox → signed callbacks → final outcomes, over real HTTP."""

import time

import pytest
from django.db import close_old_connections

from campaigns.models import CallbackEvent, ImageAsset, Recipient
from campaigns.services import sending
from campaigns.telesign import client_from_settings

from .factories import make_audience, make_campaign, make_contact
from .sandbox_helpers import ledger, start_sandbox_calling_back

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# The sandbox's documented outcome for each last digit of the number.
EXPECTED = {
    0: ("viber_delivered", False),
    1: ("viber_delivered", True),
    2: ("sms_delivered", False),
    3: ("sms_delivered", False),
    4: ("failed", False),
    5: ("viber_delivered", True),
    6: ("viber_delivered", False),
    7: ("viber_delivered", True),
    8: ("failed", False),
    9: ("viber_delivered", False),
}


@pytest.fixture
def app_and_sandbox(live_server, settings):
    sandbox = start_sandbox_calling_back(live_server.url, settings)
    yield sandbox
    sandbox.stop()


def wait_until_final(campaign, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        if not Recipient.objects.filter(
            campaign=campaign, outcome=Recipient.Outcome.PENDING
        ).exists():
            return
        time.sleep(0.3)
    pending = Recipient.objects.filter(campaign=campaign, outcome="pending").count()
    raise AssertionError(f"{pending} recipient(s) still pending after {timeout} s")


def test_every_sandbox_outcome_is_reached_through_callbacks(app_and_sandbox):
    contacts = [make_contact(f"+4479113{i:05d}") for i in range(300)]
    campaign = make_campaign(
        [make_audience(contacts=contacts)], max_send_rate=500, fallback_time=600
    )
    sending.campaign_launch(campaign=campaign)
    sending.campaign_send_run(
        campaign_id=campaign.pk, client=client_from_settings(), concurrency=16
    )
    wait_until_final(campaign)

    for recipient in Recipient.objects.filter(campaign=campaign):
        outcome, read = EXPECTED[int(recipient.phone[-1])]
        assert recipient.outcome == outcome, recipient.phone
        assert (recipient.read_at is not None) == read, recipient.phone
        assert len(recipient.reference_id) == 32
        if outcome == "sms_delivered":
            viber, sms = recipient.attempts.order_by("position")
            assert viber.status_code in (3055, 3056) and sms.status_code == 3000
        if outcome == "failed":
            assert recipient.failure_reason.startswith("SMS: 30")
    assert not CallbackEvent.objects.exclude(
        processing=CallbackEvent.Processing.APPLIED
    ).exists()
    assert set(ledger(app_and_sandbox)["accepted_by_external_id"].values()) == {1}


def test_an_image_viber_cannot_fetch_falls_back_to_sms(app_and_sandbox):
    broken = ImageAsset.objects.create(
        name="Gone", external_url="https://127.0.0.1:9/gone.jpg"
    )
    contacts = [make_contact(f"+447911400{i:02d}0") for i in range(3)]
    campaign = make_campaign([make_audience(contacts=contacts)], image=broken)
    sending.campaign_launch(campaign=campaign)
    sending.campaign_send_run(campaign_id=campaign.pk, client=client_from_settings())
    wait_until_final(campaign)
    for recipient in Recipient.objects.filter(campaign=campaign):
        assert recipient.outcome == "sms_delivered"
        assert recipient.attempts.get(channel="viber").status_code == 3035


def test_a_resend_by_sms_reaches_phones_by_sms_only(app_and_sandbox):
    from campaigns import services

    contacts = [make_contact(f"+4479115000{i}") for i in range(10)]
    campaign = make_campaign([make_audience(contacts=contacts)], max_send_rate=500)
    sending.campaign_launch(campaign=campaign)
    sending.campaign_send_run(campaign_id=campaign.pk, client=client_from_settings())
    wait_until_final(campaign)
    follow_up = services.campaign_follow_up_create(campaign=campaign, sms_only=True)
    sending.campaign_launch(campaign=follow_up)
    sending.campaign_send_run(campaign_id=follow_up.pk, client=client_from_settings())
    wait_until_final(follow_up)
    # Only digits 4 and 8 failed in the original; by SMS alone 4 → 3031, 8 → 3033.
    resent = Recipient.objects.filter(campaign=follow_up)
    assert sorted(r.phone[-1] for r in resent) == ["4", "8"]
    for recipient in resent:
        assert list(recipient.attempts.values_list("channel", flat=True)) == ["sms"]
        assert recipient.outcome == "failed"
    entries = ledger(app_and_sandbox, full=True)["entries"]
    assert {e["external_id"] for e in entries} >= {r.external_id for r in resent}
