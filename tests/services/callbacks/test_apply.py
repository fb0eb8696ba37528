"""Applying one callback: what a delivery or read report does to its recipient
and channel attempts (sent through the signed endpoint, applied at once)."""

import json
from datetime import UTC, datetime

import pytest

from campaigns.models import CallbackEvent, Recipient
from campaigns.services.callbacks.apply import callback_event_apply
from campaigns.telesign.callbacks import CallbackShapeError

from ...callback_helpers import (
    RS,
    SEED,
    SEED_REFERENCE,
    delivery,
    make_recipient,
    post_callback,
)
from ...factories import make_campaign

pytestmark = pytest.mark.django_db


def test_seed_callback_verbatim_gives_viber_3056_then_sms_3000(client):
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    response = post_callback(client, SEED.read_bytes())
    assert response.status_code == 200
    recipient.refresh_from_db()
    viber, sms = recipient.attempts.order_by("position")
    assert (viber.channel, viber.status_code, viber.reference_id) == (
        "viber",
        3056,
        "65C77D4A6C5C09085694EFB6C554D2BF",
    )
    assert (sms.channel, sms.status_code, sms.reference_id) == (
        "sms",
        3000,
        "65C77D4A6C5C09085694EFB6C558B4C7",
    )
    assert viber.updated_on == datetime(2020, 5, 4, 22, 5, 0, 325000, tzinfo=UTC)
    assert sms.updated_on == datetime(2020, 5, 4, 22, 7, 1, 226000, tzinfo=UTC)
    assert recipient.outcome == Recipient.Outcome.SMS_DELIVERED
    assert (recipient.status_code, recipient.last_channel) == (3000, "sms")
    assert recipient.delivered_at == sms.updated_on
    event = CallbackEvent.objects.get()
    assert event.processing == CallbackEvent.Processing.APPLIED
    assert bytes(event.raw_body) == SEED.read_bytes()
    assert event.recipient == recipient


def test_unknown_status_codes_are_stored_with_their_raw_code(client):
    recipient = make_recipient(reference_id="A" * 32)
    post_callback(
        client,
        delivery(
            "A" * 32, code=3999, channels=[("viber", 3999, None, "2026-01-01 00:00:00")]
        ),
    )
    recipient.refresh_from_db()
    assert recipient.status_code == 3999
    assert recipient.attempts.get().status_code == 3999
    assert recipient.outcome == Recipient.Outcome.PENDING
    assert CallbackEvent.objects.get().status_code == 3999


def test_unconfirmed_recipient_is_confirmed_by_its_external_id(client):
    recipient = make_recipient(send_status=RS.UNCONFIRMED)
    post_callback(
        client,
        delivery(
            "D" * 32,
            code=3000,
            external_id=recipient.external_id,
            channels=[("viber", 3000, None, "2026-11-28 10:00:00")],
        ),
    )
    recipient.refresh_from_db()
    assert recipient.send_status == RS.ACCEPTED
    assert recipient.reference_id == "D" * 32
    assert recipient.outcome == Recipient.Outcome.VIBER_DELIVERED


def test_read_sets_read_time_and_implies_delivered(client):
    recipient = make_recipient(reference_id="E" * 32)
    post_callback(
        client,
        delivery(
            "E" * 32,
            code=3005,
            channels=[("viber", 3005, "F" * 32, "2026-11-28 10:00:05.000")],
        ),
    )
    recipient.refresh_from_db()
    assert recipient.read_at == datetime(2026, 11, 28, 10, 0, 5, tzinfo=UTC)
    assert recipient.delivered_at == recipient.read_at
    assert recipient.outcome == Recipient.Outcome.VIBER_DELIVERED
    assert CallbackEvent.objects.get().kind == CallbackEvent.Kind.READ


def test_viber_failure_without_fallback_is_final(client):
    recipient = make_recipient(
        campaign=make_campaign(sms_fallback_enabled=False, sms_text=""),
        reference_id="A" * 32,
    )
    post_callback(
        client,
        delivery(
            "A" * 32,
            code=3055,
            channels=[("viber", 3055, "B" * 32, "2026-11-28 10:00:00")],
        ),
    )
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.FAILED
    assert recipient.failure_reason.startswith("Viber: 3055")


def test_a_failed_viber_leg_with_fallback_waits_for_the_sms(client):
    recipient = make_recipient(reference_id="A" * 32)
    viber = ("viber", 3035, "V" + "A" * 31, "2026-11-28 10:00:01")
    post_callback(
        client,
        delivery(
            "A" * 32,
            code=3001,
            last="sms",
            channels=[viber, ("sms", 3001, None, "2026-11-28 10:00:01")],
        ),
    )
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.PENDING
    post_callback(
        client,
        delivery(
            "A" * 32,
            code=3000,
            last="sms",
            channels=[viber, ("sms", 3000, "S" + "A" * 31, "2026-11-28 10:00:05")],
        ),
    )
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.SMS_DELIVERED


# --- a stored event, applied from its raw body ----------------------------------


def stored_event(body: bytes) -> CallbackEvent:
    return CallbackEvent.objects.create(method="POST", raw_body=body, signature="valid")


def test_a_stored_event_that_is_not_json_is_marked_failed_with_the_reason():
    event = stored_event(b"{not json")
    assert callback_event_apply(event=event) == CallbackEvent.Processing.FAILED
    event.refresh_from_db()
    assert event.processing == CallbackEvent.Processing.FAILED
    assert event.error.startswith("The body is not JSON: ")


def test_a_stored_event_of_the_wrong_shape_is_marked_failed_and_raises():
    event = stored_event(json.dumps({"reference_id": "X", "status": 5}).encode())
    with pytest.raises(CallbackShapeError):
        callback_event_apply(event=event)
    event.refresh_from_db()
    assert event.processing == CallbackEvent.Processing.FAILED
    assert event.error == "Unexpected shape: status: is required and must be an object"


def test_a_stored_event_is_applied_from_its_raw_body():
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    event = stored_event(SEED.read_bytes())
    assert callback_event_apply(event=event) == CallbackEvent.Processing.APPLIED
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.SMS_DELIVERED
    event.refresh_from_db()
    assert (event.processing, event.recipient_id, event.kind) == (
        CallbackEvent.Processing.APPLIED,
        recipient.pk,
        CallbackEvent.Kind.DELIVERY,
    )
