"""The home's figures: sending progress, rate and expected end; the latest
results; what is scheduled and drafted."""

import datetime as dt

import pytest

from campaigns import selectors, services
from campaigns.models import Campaign, Recipient

from ..factories import make_audience, make_campaign, make_contact
from ..report_helpers import make_recipient

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
S = Recipient.SendStatus


def sending_campaign(*, sent_recently: int, sent_earlier: int, queued: int):
    contacts = [
        make_contact(name=f"P{i}") for i in range(sent_recently + sent_earlier + queued)
    ]
    campaign = make_campaign(
        [make_audience(contacts=contacts)],
        status=Campaign.Status.SENDING,
        started_at=NOW - dt.timedelta(minutes=10),
        max_send_rate=5,
    )
    for index, contact in enumerate(contacts):
        fields = {"send_status": S.QUEUED}
        if index < sent_recently:
            fields = {
                "send_status": S.ACCEPTED,
                "sent_at": NOW - dt.timedelta(seconds=1),
            }
        elif index < sent_recently + sent_earlier:
            fields = {
                "send_status": S.ACCEPTED,
                "sent_at": NOW - dt.timedelta(minutes=5),
            }
        make_recipient(campaign, contact, **fields)
    services.campaign_report_refresh(campaign=campaign)
    return campaign


@pytest.mark.django_db
def test_a_sending_campaign_shows_sent_of_target_the_last_minutes_rate_and_its_end():
    campaign = sending_campaign(sent_recently=6, sent_earlier=4, queued=12)

    (state,) = selectors.home_overview(now=NOW).sending

    assert state.campaign == campaign
    assert (state.sent, state.target) == (10, 22)
    assert state.rate == pytest.approx(6 / 60)
    # 12 left at 0.1 a second: 120 s.
    assert state.eta == NOW + dt.timedelta(seconds=120)


@pytest.mark.django_db
def test_before_any_send_the_end_is_estimated_at_the_campaigns_maximum_rate():
    sending_campaign(sent_recently=0, sent_earlier=0, queued=10)

    (state,) = selectors.home_overview(now=NOW).sending

    assert state.rate == 0
    assert state.eta == NOW + dt.timedelta(seconds=2)  # 10 at 5 a second


@pytest.mark.django_db
def test_a_paused_campaign_is_listed_without_an_end():
    campaign = sending_campaign(sent_recently=0, sent_earlier=2, queued=3)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PAUSED)

    (state,) = selectors.home_overview(now=NOW).sending

    assert state.eta is None and (state.sent, state.target) == (2, 5)


@pytest.mark.django_db
def test_results_scheduled_and_drafts_are_the_latest_few():
    finished = [
        make_campaign(
            status=Campaign.Status.COMPLETED,
            completed_at=NOW - dt.timedelta(days=i),
            name=f"Done {i}",
        )
        for i in range(selectors.HOME_ROWS + 2)
    ]
    for campaign in finished:
        services.campaign_report_refresh(campaign=campaign)
    later = make_campaign(
        status=Campaign.Status.SCHEDULED, scheduled_at=NOW + dt.timedelta(days=2)
    )
    sooner = make_campaign(
        status=Campaign.Status.SCHEDULED, scheduled_at=NOW + dt.timedelta(days=1)
    )
    draft = make_campaign()

    home = selectors.home_overview(now=NOW)

    assert [r.campaign for r in home.results] == finished[: selectors.HOME_ROWS]
    assert home.scheduled == [sooner, later]
    assert draft in home.drafts and later not in home.drafts
