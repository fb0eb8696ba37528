"""Send slots: the campaign's rate holds within one worker and across many."""

from collections import Counter

import pytest

from campaigns.models import Campaign, Recipient
from campaigns.services import sending

from ...factories import make_campaign
from ...sandbox_helpers import ledger
from ...workers import wait_for
from .helpers import audience_of, launched, run, status_of

pytestmark = pytest.mark.django_db


def test_rate_limit_holds_within_one_worker(sandbox):
    campaign = make_campaign([audience_of(25)], max_send_rate=10)
    sending.campaign_launch(campaign=campaign)
    run(campaign)
    times = sorted(e["at"] for e in ledger(sandbox, full=True)["entries"])
    assert len(times) == 25
    busiest = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
    assert busiest <= 10
    assert times[-1] - times[0] >= 2.0  # 25 sends at 10/s take at least 2.4 s


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_rate_holds_across_four_workers(sandbox, workers):
    campaign = launched(60, max_send_rate=10)
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
