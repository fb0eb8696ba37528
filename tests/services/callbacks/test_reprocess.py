"""Applying stored callbacks again: failed events, orphans whose recipient now
exists, and a recipient rebuilt from its events."""

import pytest
from django.core.management import call_command

from campaigns.models import CallbackEvent, Recipient
from campaigns.services import sending
from campaigns.services.callbacks import apply, recipient_rebuild_from_events
from campaigns.telesign import SendResult, SendStatus

from ...callback_helpers import (
    RS,
    SEED,
    SEED_REFERENCE,
    delivery,
    fallback_sequence,
    final_state,
    make_recipient,
    post_callback,
)

pytestmark = pytest.mark.django_db


def test_failed_events_can_be_reprocessed_by_command(client, monkeypatch):
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    real = apply.delivery_report_apply

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(apply, "delivery_report_apply", broken)
    assert post_callback(client, SEED.read_bytes()).status_code == 200
    event = CallbackEvent.objects.get()
    assert event.processing == CallbackEvent.Processing.FAILED
    assert "database hiccup" in event.error

    monkeypatch.setattr(apply, "delivery_report_apply", real)
    call_command("callbacks_reprocess", "--failed")
    event.refresh_from_db()
    recipient.refresh_from_db()
    assert event.processing == CallbackEvent.Processing.APPLIED
    assert recipient.outcome == Recipient.Outcome.SMS_DELIVERED


def test_orphan_is_applied_when_the_send_response_is_stored(client):
    recipient = make_recipient(send_status=RS.IN_FLIGHT, claimed_by="w1")
    reference = "B" * 32
    response = post_callback(
        client,
        delivery(
            reference,
            code=3000,
            channels=[("viber", 3000, "C" * 32, "2026-11-28 10:00:01.000")],
        ),
    )
    assert response.status_code == 202
    references = sending.send_results_record(
        results=[(recipient.pk, SendResult(SendStatus.ACCEPTED, 3001, "x", reference))],
        worker_id="w1",
        attempts={},
    )
    sending.orphans_for_references_apply(references=references)
    recipient.refresh_from_db()
    assert recipient.reference_id == reference
    assert recipient.outcome == Recipient.Outcome.VIBER_DELIVERED
    assert recipient.status_code == 3000  # the send answer did not overwrite it
    assert CallbackEvent.objects.get().processing == CallbackEvent.Processing.APPLIED


def test_replaying_stored_events_rebuilds_a_recipient(client):
    recipient = make_recipient(reference_id="A" * 32)
    for payload in fallback_sequence("A" * 32):
        post_callback(client, payload)
    before = final_state(recipient)
    Recipient.objects.filter(pk=recipient.pk).update(
        outcome="failed", failure_reason="corrupted"
    )
    recipient.attempts.all().delete()
    recipient_rebuild_from_events(recipient=recipient)
    assert final_state(recipient) == before
