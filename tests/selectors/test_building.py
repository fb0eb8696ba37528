"""Reads for a campaign being built: an unsaved form's figures, the preview's
search over every targeted contact, recipients waiting for their window."""

import datetime as dt

import pytest

from campaigns import selectors
from campaigns.models import Campaign, Recipient
from campaigns.services import sending

from ..factories import make_audience, make_campaign, make_contact

pytestmark = pytest.mark.django_db


def test_draft_figures_count_what_the_typed_audiences_would_message():
    first = make_audience(contacts=[make_contact(name="Ana Lima"), make_contact()])
    shared = make_contact(name="Ben Ode")
    first.contacts.add(shared)
    second = make_audience(
        contacts=[shared, make_contact(opted_out_at="2026-01-01T00:00Z")]
    )
    draft = Campaign(sms_text="Hi {first_name|there}", max_send_rate=1)
    figures = selectors.campaign_draft_figures(
        draft=draft, image_id=None, audience_ids=[first.pk, second.pk]
    )
    assert (figures.contacts, figures.opted_out, figures.targeted) == (4, 1, 3)
    assert figures.sms_text == "Hi Ana" and figures.sms_problems == []
    assert figures.duration_minutes == 1 and figures.image is None


def test_contact_search_reaches_beyond_the_first_twenty():
    contacts = [make_contact(name=f"Person {n}") for n in range(25)]
    campaign = make_campaign([make_audience(contacts=contacts)])
    assert selectors.campaign_contacts_search(campaign=campaign, query="Person 24") == [
        contacts[24]
    ]
    assert selectors.campaign_contact_at(campaign=campaign, position=25) == contacts[24]
    assert selectors.campaign_contact_at(campaign=campaign, position=26) is None
    assert (
        selectors.campaign_contact_position(campaign=campaign, contact=contacts[24])
        == 25
    )


def test_contact_search_leaves_out_opted_out_contacts():
    opted_out = make_contact(name="Olga Out", opted_out_at="2026-01-01T00:00Z")
    campaign = make_campaign([make_audience(contacts=[opted_out])])
    assert selectors.campaign_contacts_search(campaign=campaign, query="Olga") == []


def test_recipients_held_for_quiet_hours_are_counted_as_waiting():
    london = [make_contact(f"+44791100000{n}") for n in range(3)]
    campaign = make_campaign(
        [make_audience(contacts=london)],
        send_window_start=dt.time(9),
        send_window_end=dt.time(10),
    )
    sending.campaign_launch(campaign=campaign)
    noon = dt.datetime(2030, 1, 7, 12, 0, tzinfo=dt.UTC)  # 12:00 in London
    claimed = sending.recipients_claim_sendable(
        campaign=campaign, worker_id="w", limit=10, now=noon
    )
    assert claimed == []
    waiting = selectors.campaign_recipients_waiting_for_window
    assert waiting(campaign=campaign, now=noon) == 3
    # A retry after a refused send waits too, but not for its window.
    retry = Recipient.objects.filter(campaign=campaign).first()
    Recipient.objects.filter(pk=retry.pk).update(
        send_attempts=1, next_attempt_at=noon + dt.timedelta(seconds=30)
    )
    assert waiting(campaign=campaign, now=noon) == 2
    # Once the window opens, nobody waits.
    assert waiting(campaign=campaign, now=noon + dt.timedelta(days=1)) == 0
