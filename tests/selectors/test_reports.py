"""Report figures: every figure against a hand-computed fixture, and the JSON
form CampaignReport stores (reports stored before the figures were typed
keep loading)."""

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from campaigns import selectors, services
from campaigns.models import Campaign, CampaignReport, Recipient
from campaigns.selectors import (
    ChannelAttempts,
    DeliveryTime,
    ReportFigures,
    Timeline,
)

from ..factories import make_campaign
from ..report_helpers import at

pytestmark = pytest.mark.django_db

# What the figures of tests/report_helpers.finished_campaign were as JSON
# when they were an untyped dict (the form CampaignReports hold today).
STORED = Path(__file__).parents[1] / "fixtures" / "reports" / "finished_campaign.json"


def test_figures_match_the_hand_computed_fixture(finished):
    campaign, _ = finished
    figures = selectors.campaign_report_figures(campaign=campaign)
    assert figures.recipients == 10
    assert figures.suppressed == {"opted_out": 1, "invalid": 0, "duplicate": 2}
    assert figures.suppressed_total == 3
    # Accepted (6), unconfirmed (1) and rejected (1) were sent to Telesign.
    assert figures.attempted == 8
    assert figures.viber_delivered == 2
    assert figures.read == 1
    assert figures.sms_delivered == 2
    assert figures.fell_back == 3  # three recipients have an SMS leg
    assert figures.failed == 2
    assert figures.failure_reasons == (
        ("3101 Invalid phone_number", 1),
        ("SMS: 3031 Permanent phone error", 1),
    )
    assert figures.pending == 2  # accepted-but-open and never sent
    assert figures.pending_not_sent == 1
    assert figures.unconfirmed == 1
    assert figures.final == 7
    assert figures.progress == pytest.approx(0.7)
    assert asdict(figures.rates) == {
        "viber_delivery": pytest.approx(2 / 8),
        "fallback": pytest.approx(3 / 8),
        "completion": pytest.approx(4 / 8),
        "read": pytest.approx(1 / 2),
    }
    assert figures.attempts == ChannelAttempts(viber=6, sms=3)
    codes = {(c.channel, c.code): c.count for c in figures.codes}
    assert codes == {
        ("viber", 3005): 1,
        ("viber", 3000): 1,
        ("viber", 3055): 2,
        ("viber", 3056): 1,
        ("viber", 3001): 1,
        ("sms", 3000): 2,
        ("sms", 3031): 1,
    }
    # Nearest rank: Viber took 10 s and 20 s, SMS 100 s and 200 s.
    ttd = figures.time_to_delivery
    assert ttd.viber == DeliveryTime(count=2, median=10.0, p90=20.0)
    assert ttd.sms == DeliveryTime(count=2, median=100.0, p90=200.0)
    timeline = figures.timeline
    assert timeline.bucket_seconds == 10
    assert timeline.start == int(at(10).timestamp())
    by_time = {epoch: (viber, sms) for epoch, viber, sms in timeline.buckets}
    assert by_time[int(at(10).timestamp())] == (1, 0)
    assert by_time[int(at(20).timestamp())] == (1, 0)
    assert by_time[int(at(100).timestamp())] == (0, 1)
    assert by_time[int(at(200).timestamp())] == (0, 1)
    assert sum(v + s for v, s in by_time.values()) == 4


def test_figures_are_stored_as_the_json_the_untyped_figures_were(finished):
    campaign, _ = finished
    figures = selectors.campaign_report_figures(campaign=campaign)
    stored = json.loads(STORED.read_text())
    # Figures counted since then are the only additions.
    added = {"reconciled": 0}
    assert figures.to_json() == {**stored, **added}
    assert json.loads(json.dumps(figures.to_json())) == {**stored, **added}


def test_a_report_stored_before_the_figures_were_typed_still_loads(finished):
    campaign, _ = finished
    loaded = ReportFigures.from_json(json.loads(STORED.read_text()))
    assert loaded == selectors.campaign_report_figures(campaign=campaign)
    assert loaded.rates.completion == pytest.approx(4 / 8)
    assert loaded.failure_reasons[0].reason == "3101 Invalid phone_number"
    assert loaded.timeline.buckets[0].viber == 1


def test_figures_read_back_from_the_database_equal_the_computed_ones(finished):
    campaign, _ = finished
    services.campaign_report_refresh(campaign=campaign)
    stored = CampaignReport.objects.get(campaign=campaign)
    loaded = ReportFigures.from_json(stored.figures)
    assert loaded == selectors.campaign_report_figures(campaign=campaign)
    assert stored.recipients == loaded.recipients == 10
    assert stored.completion_rate == pytest.approx(loaded.rates.completion)


def test_a_campaign_without_recipients_has_zeros_and_no_rates():
    campaign = make_campaign(status=Campaign.Status.COMPLETED)
    figures = selectors.campaign_report_figures(campaign=campaign)
    assert (figures.recipients, figures.attempted, figures.final) == (0, 0, 0)
    assert figures.progress is None and figures.rates.completion is None
    assert figures.timeline == Timeline(bucket_seconds=0, start=None, buckets=())
    assert figures.time_to_delivery.sms == DeliveryTime(0, None, None)
    assert ReportFigures.from_json(figures.to_json()) == figures


def test_a_report_is_live_while_any_recipient_is_pending(finished):
    campaign, _ = finished
    live = selectors.campaign_report_live
    figures = selectors.campaign_report_figures(campaign=campaign)
    # Completed, but one recipient pending and one unconfirmed.
    assert (figures.pending, figures.unconfirmed) == (2, 1)
    assert live(campaign=campaign, figures=figures) is True
    Recipient.objects.filter(
        campaign=campaign, outcome=Recipient.Outcome.PENDING
    ).update(outcome=Recipient.Outcome.FAILED)
    final = selectors.campaign_report_figures(campaign=campaign)
    assert live(campaign=campaign, figures=final) is False


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Campaign.Status.SENDING, True),
        (Campaign.Status.PAUSED, True),
        (Campaign.Status.COMPLETED, False),
        (Campaign.Status.CANCELLED, False),
    ],
)
def test_a_report_is_live_while_its_campaign_sends_or_is_paused(status, expected):
    campaign = make_campaign(status=status)
    figures = selectors.campaign_report_figures(campaign=campaign)
    assert figures.recipients == 0
    assert selectors.campaign_report_live(campaign=campaign, figures=figures) is (
        expected
    )


@pytest.mark.django_db(transaction=True)
def test_figures_agree_when_a_delivery_lands_while_they_are_computed():
    """The tiles and the deliveries chart are separate queries: a callback
    applied between them made the chart say "Viber (2)" beside a tile of 1."""
    import threading

    from django.db import connection

    from ..factories import make_audience, make_contact
    from ..report_helpers import make_recipient

    contacts = [make_contact() for _ in range(2)]
    campaign = make_campaign(
        [make_audience(contacts=contacts)], status=Campaign.Status.SENDING
    )
    sent = {"send_status": "accepted", "sent_at": at(0)}
    make_recipient(campaign, contacts[0], outcome="viber_delivered",
                   delivered_at=at(5), **sent)  # fmt: skip
    late = make_recipient(campaign, contacts[1], **sent)

    def deliver():  # the callback, on its own connection
        Recipient.objects.filter(pk=late.pk).update(
            outcome="viber_delivered", delivered_at=at(6)
        )
        connection.close()

    fired = []

    def callback_after_first_recipient_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not fired and sql.startswith("SELECT") and "campaigns_recipient" in sql:
            fired.append(threading.Thread(target=deliver))
            fired[0].start()
            fired[0].join(timeout=1.5)  # SQLite holds it until the figures are done
        return result

    with connection.execute_wrapper(callback_after_first_recipient_read):
        figures = selectors.campaign_report_figures(campaign=campaign)
    fired[0].join(timeout=30)

    charted = sum(bucket.viber for bucket in figures.timeline.buckets)
    assert charted == figures.viber_delivered
