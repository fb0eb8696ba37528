"""Launching: the checks, and one recipient per contact, once."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.models import Campaign, Recipient
from campaigns.services import DomainError, sending
from campaigns.services.sending import launch

from ...factories import make_audience, make_campaign, make_contact
from .helpers import audience_of

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus


def test_launch_materialises_once_per_contact_with_suppressions():
    shared = make_contact("+447911000001")
    opted_out = make_contact("+447911000002", opted_out_at=timezone.now())
    first = make_audience(contacts=[shared, opted_out, make_contact("+447911000003")])
    second = make_audience(contacts=[shared, make_contact("+447911000004")])
    campaign = make_campaign([first, second])

    result = sending.campaign_launch(campaign=campaign)

    assert (result.recipients, result.suppressed, result.duplicates) == (4, 1, 1)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert campaign.audience_duplicates == 1
    suppressed = Recipient.objects.get(contact=opted_out)
    assert (suppressed.outcome, suppressed.suppression_reason) == (
        "suppressed",
        "opted_out",
    )
    assert suppressed.send_status == RS.SKIPPED
    queued = Recipient.objects.filter(campaign=campaign, send_status=RS.QUEUED)
    assert queued.count() == 3
    for recipient in queued:
        assert recipient.external_id == f"c{campaign.pk}-{recipient.contact_id:010d}"
        assert recipient.phone == recipient.contact.phone


@pytest.mark.django_db(transaction=True)
def test_a_large_launch_is_materialised_by_parallel_connections_exactly_once(
    settings,
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has a single writer (CI runs it there)")
    settings.LAUNCH_PARALLEL_MIN_CONTACTS = 1
    settings.LAUNCH_PARALLELISM = 3
    contacts = [make_contact(f"+4479112{i:05d}") for i in range(40)] + [
        make_contact(f"+4479113{i:05d}", opted_out_at=timezone.now()) for i in range(10)
    ]
    first = make_audience(contacts=contacts[:40])
    second = make_audience(contacts=contacts[30:])  # 10 shared, 10 opted out
    campaign = make_campaign([first, second])
    ranges = launch._materialise_ranges(campaign=campaign)
    assert len(ranges) == 3
    assert (ranges[0][0], ranges[-1][1]) == (contacts[0].pk, contacts[-1].pk)

    result = sending.campaign_launch(campaign=campaign)

    assert (result.recipients, result.suppressed, result.duplicates) == (50, 10, 10)
    rows = Recipient.objects.filter(campaign=campaign)
    assert rows.values("contact").distinct().count() == 50
    # Materialising again (a relaunch after a crash) adds nothing.
    counts = sending.recipients_materialise(campaign=campaign, now=timezone.now())
    assert counts["recipients"] == 50


def test_launching_twice_creates_nothing_twice():
    campaign = make_campaign([audience_of(3)])
    sending.campaign_launch(campaign=campaign)
    with pytest.raises(DomainError, match="only a draft or scheduled"):
        sending.campaign_launch(campaign=campaign)
    assert Recipient.objects.filter(campaign=campaign).count() == 3


def test_launch_lists_what_is_missing():
    campaign = make_campaign([])
    with pytest.raises(DomainError, match="at least one audience"):
        sending.campaign_launch(campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_launch_with_real_telesign_needs_an_https_image(settings):
    settings.TELESIGN_CUSTOMER_ID, settings.TELESIGN_API_KEY = "cid", "a2V5"
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    campaign = make_campaign([audience_of(1)])
    with pytest.raises(DomainError, match="https only"):
        sending.campaign_launch(campaign=campaign)


def test_launch_refuses_placeholders_the_audiences_have_no_field_for():
    audience = audience_of(2, attributes={"city": "Porto"})
    campaign = make_campaign([audience], sms_text="Hi {nickname}, in {city}")
    problems = sending.campaign_launch_problems(campaign=campaign)
    assert any("uses {nickname}, which no contact" in p for p in problems)
    assert any(
        "Fields they have: name, first_name, last_name, phone, city" in p
        for p in problems
    )
    with pytest.raises(DomainError, match=r"\{nickname\}"):
        sending.campaign_launch(campaign=campaign)
    assert not Recipient.objects.filter(campaign=campaign).exists()

    # Without SMS the text is never sent, so its placeholders do not matter.
    Campaign.objects.filter(pk=campaign.pk).update(sms_fallback_enabled=False)
    campaign.refresh_from_db()
    assert sending.campaign_launch(campaign=campaign).recipients == 2


def test_a_scheduled_campaign_whose_text_no_longer_fits_its_audience_stays_a_draft():
    audience = audience_of(1, attributes={"city": "Porto"})
    campaign = make_campaign(
        [audience],
        sms_text="See you in {city}",
        scheduled_at=timezone.now() + dt.timedelta(minutes=5),
    )
    assert sending.campaign_launch(campaign=campaign).scheduled
    # The only contact with a city is edited to have none before the start.
    audience.contacts.update(attributes={})

    assert (
        sending.scheduled_campaigns_start(now=timezone.now() + dt.timedelta(minutes=10))
        == 0
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert "{city}" in campaign.status_reason
    assert not Recipient.objects.filter(campaign=campaign).exists()
