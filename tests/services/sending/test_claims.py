"""Claims: each recipient sent by one worker once; dead workers' claims
recovered; quiet hours held back."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Recipient
from campaigns.services import sending

from ...factories import make_audience, make_campaign, make_contact
from ...sandbox_helpers import ledger
from ...workers import wait_for
from .helpers import audience_of, launched, run, status_of

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus


def test_claims_of_a_dead_worker_are_recovered():
    campaign = make_campaign([audience_of(2)])
    sending.campaign_launch(campaign=campaign)
    claimed, in_flight = Recipient.objects.filter(campaign=campaign).order_by("id")
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Recipient.objects.filter(pk=claimed.pk).update(
        send_status=RS.CLAIMED, claimed_by="dead", claimed_at=long_ago
    )
    Recipient.objects.filter(pk=in_flight.pk).update(
        send_status=RS.IN_FLIGHT, claimed_by="dead", claimed_at=long_ago
    )
    assert sending.claims_expire() == (1, 1)
    claimed.refresh_from_db()
    in_flight.refresh_from_db()
    assert (claimed.send_status, claimed.claimed_by) == (RS.QUEUED, "")
    assert in_flight.send_status == RS.UNCONFIRMED


def test_two_workers_never_claim_the_same_recipient():
    campaign = make_campaign([audience_of(10)])
    sending.campaign_launch(campaign=campaign)
    first = sending.recipients_claim(campaign=campaign, worker_id="a", limit=6)
    second = sending.recipients_claim(campaign=campaign, worker_id="b", limit=6)
    assert len(first) == 6 and len(second) == 4
    assert not {r.id for r in first} & {r.id for r in second}


def test_quiet_hours_hold_recipients_until_their_local_window(sandbox):
    london = make_contact("+447911000001")
    new_york = make_contact("+12125550123")
    now = timezone.now()
    local = now.astimezone(ZoneInfo("Europe/London"))
    start = (local - dt.timedelta(minutes=30)).time().replace(second=0, microsecond=0)
    end = (local + dt.timedelta(minutes=90)).time().replace(second=0, microsecond=0)
    if start > end:
        pytest.skip("window would cross midnight in London right now")
    campaign = make_campaign(
        [make_audience(contacts=[london, new_york])],
        send_window_start=start,
        send_window_end=end,
    )
    sending.campaign_launch(campaign=campaign)
    run(campaign)
    sent = Recipient.objects.get(contact=london)
    held = Recipient.objects.get(contact=new_york)
    assert sent.send_status == RS.ACCEPTED
    assert held.send_status == RS.QUEUED
    opens_local = held.next_attempt_at.astimezone(ZoneInfo("America/New_York"))
    assert opens_local.time() == start
    assert held.next_attempt_at > now


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_worker_killed_mid_batch_sends_nobody_twice_and_forgets_nobody(
    sandbox, workers
):
    sandbox.state.config.latency_ms = 100
    campaign = launched(200, max_send_rate=1000)
    workers.env["SEND_CONCURRENCY"] = "8"
    # Strict at-most-once: this sandbox sends no callbacks, so reconciling
    # could not tell what reached it.
    workers.env["SEND_RECONCILE_AFTER"] = "0"
    victim, survivor = workers.start(2)
    wait_for(
        lambda: ledger(sandbox)["accepted"] >= 40,
        timeout=60,
        what="sending to be well under way",
    )
    workers.kill(victim)
    wait_for(
        lambda: status_of(campaign) == Campaign.Status.COMPLETED,
        timeout=120,
        what="the campaign to complete after the kill",
    )
    assert survivor.poll() is None

    recipients = Recipient.objects.filter(campaign=campaign)
    statuses = set(recipients.values_list("send_status", flat=True))
    assert statuses <= {RS.ACCEPTED, RS.UNCONFIRMED}, statuses
    seen = ledger(sandbox)["accepted_by_external_id"]
    assert max(seen.values()) == 1, "a recipient was sent twice"
    accepted = set(
        recipients.filter(send_status=RS.ACCEPTED).values_list("external_id", flat=True)
    )
    assert accepted <= set(seen)
    unconfirmed = recipients.filter(send_status=RS.UNCONFIRMED)
    # Only what the killed worker had in flight can be in doubt: requests on
    # the wire, at most its concurrency (8).
    assert unconfirmed.count() <= 8
    assert len(accepted) + unconfirmed.count() == 200
