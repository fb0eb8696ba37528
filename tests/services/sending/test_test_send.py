"""Test sends: recorded, outside the campaign's results, a few numbers only."""

import pytest

from campaigns.models import Campaign, Recipient
from campaigns.services import DomainError, sending
from campaigns.telesign import SendStatus

from ...factories import make_campaign
from .helpers import audience_of

pytestmark = pytest.mark.django_db


def test_test_send_is_recorded_but_not_part_of_the_campaign(sandbox):
    campaign = make_campaign([audience_of(2)])
    results = sending.campaign_test_send(
        campaign=campaign, phones=["07911 123001", "+447911123002"]
    )
    assert [r.result.status for r in results] == [SendStatus.ACCEPTED] * 2
    tests = Recipient.objects.filter(campaign=campaign, is_test=True)
    assert tests.count() == 2
    assert all(t.reference_id for t in tests)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    sending.campaign_launch(campaign=campaign)
    assert Recipient.objects.filter(campaign=campaign, is_test=False).count() == 2


def test_test_send_refuses_bad_numbers_and_too_many(sandbox):
    campaign = make_campaign([audience_of(1)])
    with pytest.raises(DomainError, match="not a valid phone number"):
        sending.campaign_test_send(campaign=campaign, phones=["12"])
    with pytest.raises(DomainError, match="at most 5"):
        sending.campaign_test_send(
            campaign=campaign, phones=[f"+4479111230{i:02d}" for i in range(6)]
        )
    assert not Recipient.objects.filter(is_test=True).exists()


def test_test_send_refuses_content_telesign_cannot_send(settings):
    settings.TELESIGN_CUSTOMER_ID, settings.TELESIGN_API_KEY = "cid", "a2V5"
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    campaign = make_campaign([])  # no audience: a test send does not need one
    with pytest.raises(DomainError, match="https only"):
        sending.campaign_test_send(campaign=campaign, phones=["+447911123001"])
    assert not Recipient.objects.filter(is_test=True).exists()
