"""Telesign's answers recorded: failures, retries, unconfirmed sends and the
automatic pause."""

import time

import pytest
from django.utils import timezone

from campaigns.models import Campaign, Recipient
from campaigns.services import sending
from campaigns.telesign.client import classify_response

from ...factories import make_campaign
from ...sandbox_helpers import ledger
from .helpers import audience_of, fast_client, run

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus


def test_validation_errors_fail_the_recipient_and_are_never_retried(sandbox, settings):
    settings.AUTO_PAUSE_MIN_SENDS = 1000
    campaign = make_campaign([audience_of(3)])
    sending.campaign_launch(campaign=campaign)
    client = fast_client()
    body = b'{"status":{"code":3101,"description":"Invalid phone_number"}}'
    calls = []
    client.post_omnichannel_once = lambda _: (
        calls.append(1) or classify_response(400, body, {})
    )
    run(campaign, client=client)
    assert len(calls) == 3
    failed = Recipient.objects.filter(campaign=campaign)
    assert set(failed.values_list("outcome", "send_status", "status_code")) == {
        ("failed", "rejected", 3101)
    }
    assert failed.first().failure_reason == "3101 Invalid phone_number"


def test_auto_pause_when_recent_failures_pass_the_threshold(sandbox, settings):
    settings.AUTO_PAUSE_MIN_SENDS = 10
    settings.AUTO_PAUSE_FAILURE_RATE = 0.5
    campaign = make_campaign([audience_of(60)], max_send_rate=1000)
    sending.campaign_launch(campaign=campaign)
    client = fast_client()
    body = b'{"status":{"code":3102,"description":"Invalid message_type"}}'
    client.post_omnichannel_once = lambda _: (
        time.sleep(0.05) or classify_response(400, body, {})
    )
    run(campaign, client=client, concurrency=4)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.status_reason.startswith("Auto-paused:")
    assert "3102 Invalid message_type" in campaign.status_reason
    assert Recipient.objects.filter(campaign=campaign, send_status=RS.QUEUED).exists()


def test_outage_is_retried_later_and_then_delivered(sandbox):
    sandbox.state.config.rate_5xx = 1.0
    campaign = make_campaign([audience_of(4)])
    sending.campaign_launch(campaign=campaign)
    run(campaign, client=fast_client(max_attempts=2))
    waiting = Recipient.objects.filter(campaign=campaign, send_status=RS.QUEUED)
    assert waiting.count() == 4
    assert all(r.next_attempt_at > timezone.now() for r in waiting)
    assert all(r.send_attempts == 2 for r in waiting)

    sandbox.state.config.rate_5xx = 0.0
    waiting.update(next_attempt_at=timezone.now())
    run(campaign)
    assert (
        Recipient.objects.filter(campaign=campaign, send_status=RS.ACCEPTED).count()
        == 4
    )


def test_retries_stop_after_the_configured_attempts(sandbox, settings):
    settings.SEND_MAX_ATTEMPTS = 2
    sandbox.state.config.rate_429 = 1.0
    campaign = make_campaign([audience_of(1)])
    sending.campaign_launch(campaign=campaign)
    run(campaign, client=fast_client(max_attempts=1))
    Recipient.objects.filter(campaign=campaign).update(next_attempt_at=None)
    run(campaign, client=fast_client(max_attempts=1))
    recipient = Recipient.objects.get(campaign=campaign)
    assert (recipient.send_status, recipient.outcome) == (RS.REJECTED, "failed")
    assert "after 2 attempts" in recipient.failure_reason


def test_timeout_after_acceptance_is_unconfirmed_and_never_resent(sandbox, settings):
    sandbox.state.config.rate_timeout_after_accept = 1.0
    sandbox.state.config.timeout_hang_seconds = 0.6
    campaign = make_campaign([audience_of(3)])
    sending.campaign_launch(campaign=campaign)
    run(campaign, client=fast_client(read_timeout=0.2))
    run(campaign, client=fast_client(read_timeout=0.2))
    recipients = Recipient.objects.filter(campaign=campaign)
    assert set(recipients.values_list("send_status", flat=True)) == {RS.UNCONFIRMED}
    assert set(ledger(sandbox)["accepted_by_external_id"].values()) == {1}
    # Not complete: a callback may settle them, or reconciling send them again.
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENDING
    settings.SEND_RECONCILE_AFTER = 0  # strict at-most-once: nothing to wait for
    assert sending.campaign_complete_if_done(campaign_id=campaign.pk)
