"""Pause, resume and cancel, by a person or by the engine itself."""

import time
from collections import Counter

import pytest

from campaigns.models import Campaign, Recipient
from campaigns.services import DomainError, sending

from ...factories import make_campaign
from ...sandbox_helpers import ledger
from .helpers import audience_of, fast_client, run, running_in_thread

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus


@pytest.mark.django_db(transaction=True)
def test_pause_takes_effect_within_seconds_and_resume_finishes(sandbox):
    sandbox.state.config.latency_ms = 20
    campaign = make_campaign([audience_of(80)], max_send_rate=20)
    sending.campaign_launch(campaign=campaign)

    worker = running_in_thread(campaign)
    time.sleep(1.0)
    sending.campaign_pause(campaign=campaign)
    paused_at = time.monotonic()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - paused_at < 3
    sent_while_running = ledger(sandbox)["accepted"]
    assert 5 <= sent_while_running < 80
    queued = Recipient.objects.filter(campaign=campaign, send_status=RS.QUEUED)
    assert queued.count() == 80 - sent_while_running
    assert not Recipient.objects.filter(
        campaign=campaign, send_status__in=[RS.CLAIMED, RS.IN_FLIGHT]
    ).exists()

    sending.campaign_resume(campaign=campaign)
    run(campaign)
    seen = ledger(sandbox)["accepted_by_external_id"]
    assert len(seen) == 80 and set(seen.values()) == {1}
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED


def test_cancel_marks_unsent_recipients_and_stops(sandbox):
    campaign = make_campaign([audience_of(5)])
    sending.campaign_launch(campaign=campaign)
    sending.campaign_cancel(campaign=campaign)
    assert run(campaign).sent == 0
    assert set(
        Recipient.objects.filter(campaign=campaign).values_list("outcome", flat=True)
    ) == {"cancelled"}
    with pytest.raises(DomainError, match="cancelled"):
        sending.campaign_resume(campaign=campaign)


def test_refused_credentials_pause_the_campaign_with_a_clear_reason(sandbox):
    campaign = make_campaign([audience_of(5)])
    sending.campaign_launch(campaign=campaign)
    summary = run(campaign, client=fast_client(api_key="d3Jvbmc="))
    campaign.refresh_from_db()
    assert summary.stopped_because == "credentials refused"
    assert campaign.status == Campaign.Status.PAUSED
    assert "refused the credentials" in campaign.status_reason
    assert "customer id and API key" in campaign.status_reason
    assert "TELESIGN_API_KEY" not in campaign.status_reason  # no setting names
    assert ledger(sandbox)["accepted"] == 0
    assert (
        Recipient.objects.filter(campaign=campaign, send_status=RS.QUEUED).count() == 5
    )


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_throttled_campaign_leaves_nobody_pending_and_sends_nothing_more(
    sandbox,
):
    # The defect: at 2/s, recipients waiting for their slots were marked in
    # flight, cancel skipped them, and giving them back queued them again:
    # 29 of 40 stayed "Waiting to be sent" for good.
    campaign = make_campaign([audience_of(40)], max_send_rate=2)
    sending.campaign_launch(campaign=campaign)

    worker = running_in_thread(campaign, concurrency=8)
    time.sleep(3.0)
    sending.campaign_cancel(campaign=campaign)
    cancelled_at = time.time()
    worker.join(timeout=10)
    assert not worker.is_alive()

    statuses = Counter(
        Recipient.objects.filter(campaign=campaign).values_list(
            "send_status", flat=True
        )
    )
    assert not set(statuses) & {RS.QUEUED, RS.CLAIMED, RS.IN_FLIGHT}, statuses
    accepted = ledger(sandbox)["accepted"]
    assert 3 <= accepted <= 10
    assert statuses == {RS.ACCEPTED: accepted, RS.CANCELLED: 40 - accepted}
    assert set(
        Recipient.objects.filter(
            campaign=campaign, send_status=RS.CANCELLED
        ).values_list("outcome", flat=True)
    ) == {Recipient.Outcome.CANCELLED}
    # Only a request already on the wire may arrive after the cancel.
    times = [e["at"] for e in ledger(sandbox, full=True)["entries"]]
    assert sum(1 for t in times if t > cancelled_at) <= 1


def test_claims_of_a_dead_worker_in_a_cancelled_campaign_are_not_queued_again(
    sandbox,
):
    campaign = make_campaign([audience_of(6)])
    sending.campaign_launch(campaign=campaign)
    claimed = sending.recipients_claim(campaign=campaign, worker_id="dead", limit=6)
    assert len(claimed) == 6
    # A worker that died holding claims, in a campaign cancelled meanwhile:
    # cancel takes claimed recipients too; a claim recovered later must not
    # put anyone back in the queue.
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED)
    requeued, unconfirmed = sending.claims_expire(older_than=0)
    assert (requeued, unconfirmed) == (6, 0)
    assert set(
        Recipient.objects.filter(campaign=campaign).values_list(
            "send_status", "outcome"
        )
    ) == {(RS.CANCELLED, Recipient.Outcome.CANCELLED)}


@pytest.mark.django_db(transaction=True)
def test_a_resumed_slow_campaign_sends_again_within_two_seconds(sandbox):
    # At 1 msg/s a worker used to reserve a slot per thread (16 s ahead):
    # after a pause, resuming stalled until those slots had passed.
    campaign = make_campaign([audience_of(30)], max_send_rate=1)
    sending.campaign_launch(campaign=campaign)

    worker = running_in_thread(campaign, concurrency=16)
    time.sleep(2.5)
    sending.campaign_pause(campaign=campaign)
    worker.join(timeout=10)
    sent_before = ledger(sandbox)["accepted"]
    assert 1 <= sent_before <= 4

    sending.campaign_resume(campaign=campaign)
    resumed_at = time.time()
    worker = running_in_thread(campaign, concurrency=16)
    try:
        deadline = time.monotonic() + 5
        while ledger(sandbox)["accepted"] == sent_before:
            assert time.monotonic() < deadline, "nothing sent after resuming"
            time.sleep(0.05)
        first = min(
            e["at"]
            for e in ledger(sandbox, full=True)["entries"]
            if e["at"] >= resumed_at
        )
        assert first - resumed_at < 2.0
    finally:
        sending.campaign_pause(campaign=campaign)
        worker.join(timeout=10)
