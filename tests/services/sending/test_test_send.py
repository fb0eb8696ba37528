"""Test sends: recorded, outside the campaign's results, a few numbers only,
the text checked as a launch checks it, and capped."""

import datetime as dt
import json
import threading

import pytest
from django.db import connection
from django.utils import timezone

from campaigns import models
from campaigns.models import Campaign, Recipient
from campaigns.services import Actor, DomainError, sending
from campaigns.telesign import SendStatus

from ...factories import make_campaign, make_contact
from ...sandbox_helpers import ledger
from .helpers import audience_of, fast_client

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
    # Numbers outside the contacts: filled in with the sample contact's
    # fields, but recorded as sent to no contact.
    assert all(t.contact_id is None for t in tests)
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


def sent_texts(client) -> list[str]:
    """Capture the SMS text of every request `client` makes."""
    texts = []
    real = client.post_omnichannel_once

    def capture(body):
        texts.append(json.loads(body)["message"]["sms"]["parameters"]["text"])
        return real(body)

    client.post_omnichannel_once = capture
    return texts


def test_test_send_refuses_placeholders_the_audiences_have_no_field_for(sandbox):
    campaign = make_campaign([audience_of(1)], sms_text="Hi {nickname}!")
    with pytest.raises(DomainError, match=r"uses \{nickname\}, which no contact"):
        sending.campaign_test_send(campaign=campaign, phones=["+447911123001"])
    assert not Recipient.objects.filter(is_test=True).exists()
    assert ledger(sandbox)["requests"] == 0


def test_test_send_fills_fallbacks_and_never_sends_an_empty_sms(sandbox):
    audience = audience_of(1, attributes={"nickname": "Bo"})
    campaign = make_campaign([audience], sms_text="Hi {nickname|friend}!")
    make_contact("+447911123009", name="", attributes={"nickname": ""})
    client = fast_client()
    texts = sent_texts(client)
    sending.campaign_test_send(
        campaign=campaign, phones=["+447911123009", "+447911100000"], client=client
    )
    assert texts == ["Hi friend!", "Hi Bo!"]
    assert list(
        models.TestSend.objects.order_by("id").values_list("sms_text", flat=True)
    ) == [
        "Hi friend!",
        "Hi Bo!",
    ]

    Campaign.objects.filter(pk=campaign.pk).update(sms_text="{nickname}")
    campaign.refresh_from_db()
    with pytest.raises(DomainError, match=r"SMS would be empty for \+447911123009"):
        sending.campaign_test_send(
            campaign=campaign, phones=["+447911100000", "+447911123009"]
        )
    assert ledger(sandbox)["requests"] == 2  # the two before, nothing more


def test_test_sends_are_capped_per_campaign(sandbox, settings):
    settings.TEST_SENDS_PER_CAMPAIGN = 3
    campaign = make_campaign([audience_of(1)])
    other = make_campaign([audience_of(1, start=10)])
    phones = ["+447911123001", "+447911123002"]
    sending.campaign_test_send(campaign=campaign, phones=phones)
    with pytest.raises(DomainError, match=r"has had 2 test send\(s\) .* 1 more can"):
        sending.campaign_test_send(campaign=campaign, phones=phones)
    sending.campaign_test_send(campaign=campaign, phones=phones[:1])
    with pytest.raises(DomainError, match=r"at most 3 \(the workspace's limit\)\.$"):
        sending.campaign_test_send(campaign=campaign, phones=phones[:1])
    sending.campaign_test_send(campaign=other, phones=phones)  # its own count
    assert models.TestSend.objects.filter(campaign=campaign).count() == 3
    assert ledger(sandbox)["requests"] == 5


def test_test_sends_are_capped_per_person_per_day(sandbox, settings, marketer):
    settings.TEST_SENDS_PER_USER_PER_DAY = 4
    actor = Actor(user=marketer)
    first, second, third = (make_campaign([audience_of(1, start=n)]) for n in range(3))
    phones = [f"+4479111230{i:02d}" for i in range(3)]
    sending.campaign_test_send(campaign=first, phones=phones, actor=actor)
    with pytest.raises(DomainError, match=r"You have sent 3 test message\(s\)"):
        sending.campaign_test_send(campaign=second, phones=phones[:2], actor=actor)
    sending.campaign_test_send(campaign=second, phones=phones[:1], actor=actor)
    with pytest.raises(DomainError, match="the workspace's limit per person"):
        sending.campaign_test_send(campaign=third, phones=phones[:1], actor=actor)
    # A day later the person may test again.
    models.TestSend.objects.update(at=timezone.now() - dt.timedelta(hours=25))
    sending.campaign_test_send(campaign=third, phones=phones[:1], actor=actor)
    sent = models.TestSend.objects.filter(user=marketer)
    assert sent.count() == 5 and set(sent.values_list("username", flat=True)) == {
        marketer.username
    }


@pytest.mark.django_db(transaction=True)
def test_parallel_test_sends_cannot_pass_the_cap_together(sandbox, settings):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has a single writer (CI runs it there)")
    settings.TEST_SENDS_PER_CAMPAIGN = 2
    campaign = make_campaign([audience_of(1)])
    start = threading.Barrier(4)
    refused = []

    def test_send(index: int) -> None:
        try:
            start.wait()
            sending.campaign_test_send(
                campaign=campaign, phones=[f"+4479111230{index:02d}"]
            )
        except DomainError:
            refused.append(index)
        finally:
            connection.close()

    threads = [threading.Thread(target=test_send, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(refused) == 2
    assert models.TestSend.objects.filter(campaign=campaign).count() == 2
    assert ledger(sandbox)["requests"] == 2
