"""Pause, resume and cancel, by a person or by the engine itself."""

import threading
import time

import pytest
from django.db import connection

from campaigns.models import Campaign, Recipient
from campaigns.services import DomainError, sending

from ...factories import make_campaign
from ...sandbox_helpers import ledger
from .helpers import audience_of, fast_client, run

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus


@pytest.mark.django_db(transaction=True)
def test_pause_takes_effect_within_seconds_and_resume_finishes(sandbox):
    sandbox.state.config.latency_ms = 20
    campaign = make_campaign([audience_of(80)], max_send_rate=20)
    sending.campaign_launch(campaign=campaign)

    def work():
        try:
            run(campaign)
        finally:
            connection.close()  # a thread's connection would outlive the test

    worker = threading.Thread(target=work)
    worker.start()
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
