"""The engine with real worker processes: rate across workers, and a worker
killed mid-batch. Runs on SQLite and, in CI, on PostgreSQL."""

from collections import Counter

import pytest
from django.db import close_old_connections

from campaigns.models import Campaign, Recipient
from campaigns.services import sending

from .factories import make_audience, make_campaign, make_contact
from .sandbox_helpers import ledger
from .workers import Workers, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
RS = Recipient.SendStatus


def launch(count: int, **fields) -> Campaign:
    contacts = [make_contact(f"+4479112{i:05d}") for i in range(count)]
    campaign = make_campaign([make_audience(contacts=contacts)], **fields)
    sending.campaign_launch(campaign=campaign)
    return campaign


def status_of(campaign) -> str:
    close_old_connections()
    return Campaign.objects.get(pk=campaign.pk).status


@pytest.fixture
def workers(sandbox):
    pool = Workers(
        sandbox_url=sandbox.url,
        ENGINE_TICK_SECONDS=1,
        SEND_CLAIM_TIMEOUT=3,
        SEND_TASK_SLICE_SECONDS=5,
        SEND_TASKS_PER_CAMPAIGN=4,
    )
    yield pool
    pool.stop()


def test_rate_holds_across_four_workers(sandbox, workers):
    campaign = launch(60, max_send_rate=10)
    workers.start(4)
    wait_for(
        lambda: status_of(campaign) == Campaign.Status.COMPLETED,
        timeout=90,
        what="the campaign to complete",
    )
    entries = ledger(sandbox, full=True)["entries"]
    times = sorted(e["at"] for e in entries)
    assert len(times) == 60, Counter(
        Recipient.objects.filter(campaign=campaign).values_list(
            "send_status", "outcome"
        )
    )
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 10, f"{busiest} requests within one second at a 10/s limit"
    accepted = ledger(sandbox)["accepted_by_external_id"]
    assert len(accepted) == 60 and set(accepted.values()) == {1}
    workers_used = set(
        Recipient.objects.filter(campaign=campaign).values_list("claimed_by", flat=True)
    )
    assert len(workers_used) >= 2, "the sends were not shared between workers"


def test_worker_killed_mid_batch_sends_nobody_twice_and_forgets_nobody(
    sandbox, workers
):
    sandbox.state.config.latency_ms = 100
    campaign = launch(200, max_send_rate=1000)
    workers.env["SEND_CONCURRENCY"] = "8"
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
    # Only what the killed worker had marked in flight can be in doubt: the
    # group prepared ahead, the requests on the wire and the answers not yet
    # written, each at most its concurrency (8).
    assert unconfirmed.count() <= 3 * 8
    assert len(accepted) + unconfirmed.count() == 200
