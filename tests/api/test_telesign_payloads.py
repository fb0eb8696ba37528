"""Telesign's documented callbacks, replayed signed through the endpoint.

One recorded payload per case (tests/fixtures/telesign/*.json): the seed
page's report with both timestamp forms, by POST and by GET with a body, a
read report, each status path (delivered, failed, in progress, fallback) and
inbound replies. Each test replays the payload over HTTP and checks what the
app recorded: the recipient, its channel attempts and the stored event.
"""

from datetime import UTC, datetime

import pytest

from campaigns.models import (
    CallbackEvent,
    ChannelAttempt,
    Contact,
    InboundMessage,
    Recipient,
)

from ..callback_helpers import post_callback, signed_headers
from ..factories import make_campaign, make_contact
from .replay import FIXTURES, fixture_body, fixture_data, replay

pytestmark = pytest.mark.django_db
Outcome = Recipient.Outcome
CALLBACKS = sorted(
    path.stem for path in FIXTURES.glob("*.json") if path.stem != "seed_request"
)


def recipient_for(name: str, *, campaign=None, contact=None) -> Recipient:
    """An accepted recipient whose reference is the one the payload reports."""
    campaign = campaign or make_campaign()
    contact = contact or make_contact()
    data = fixture_data(name)
    return Recipient.objects.create(
        campaign=campaign,
        contact=contact,
        phone=contact.phone,
        external_id=data.get("external_id") or f"c{campaign.pk}-{contact.pk}",
        reference_id=data["reference_id"],
        send_status=Recipient.SendStatus.ACCEPTED,
        sent_at=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
    )


def attempts(recipient: Recipient) -> list[tuple]:
    return list(
        recipient.attempts.order_by("position").values_list(
            "channel", "status_code", "reference_id", "updated_on"
        )
    )


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize("name", CALLBACKS)
def test_every_recorded_callback_is_accepted_signed_and_refused_altered(client, name):
    assert replay(client, name).status_code in (200, 202)
    body = fixture_body(name)
    altered = body.replace(b'"', b' "', 1)  # same JSON, other bytes
    response = post_callback(client, altered, headers=signed_headers(body))
    assert response.status_code == 401
    assert CallbackEvent.objects.count() == 1


# --- the seed page's report: Viber timed out, SMS delivered ----------------------


@pytest.mark.parametrize("method", ["post", "get"])
def test_seed_report_records_both_legs_with_both_timestamp_forms(client, method):
    recipient = recipient_for("seed_callback")
    assert replay(client, "seed_callback", method=method).status_code == 200
    recipient.refresh_from_db()
    # "22:05:00.325" (a dot) on the Viber leg, "22:07:01:226" (a colon) elsewhere.
    assert attempts(recipient) == [
        (
            "viber",
            3056,
            "65C77D4A6C5C09085694EFB6C554D2BF",
            at(2020, 5, 4, 22, 5, 0, 325000),
        ),
        (
            "sms",
            3000,
            "65C77D4A6C5C09085694EFB6C558B4C7",
            at(2020, 5, 4, 22, 7, 1, 226000),
        ),
    ]
    assert (recipient.outcome, recipient.status_code, recipient.last_channel) == (
        Outcome.SMS_DELIVERED,
        3000,
        "sms",
    )
    assert recipient.status_updated_on == at(2020, 5, 4, 22, 7, 1, 226000)
    assert recipient.delivered_at == at(2020, 5, 4, 22, 7, 1, 226000)
    event = CallbackEvent.objects.get()
    assert (event.method, event.kind, event.processing, event.signature) == (
        method.upper(),
        CallbackEvent.Kind.DELIVERY,
        CallbackEvent.Processing.APPLIED,
        CallbackEvent.Signature.VALID,
    )
    # The seed writes a missing external_id as the string "null".
    assert (event.reference_id, event.external_id, event.status_code) == (
        "35C8B5D509BC10689196FED2AD551B8A",
        "",
        3000,
    )
    assert event.recipient == recipient
    assert bytes(event.raw_body) == fixture_body("seed_callback")


# --- Viber delivered, then read --------------------------------------------------


def test_viber_delivery_report_delivers_on_viber(client):
    recipient = recipient_for("viber_delivered")
    assert replay(client, "viber_delivered").status_code == 200
    recipient.refresh_from_db()
    assert attempts(recipient) == [
        (
            "viber",
            3000,
            "2B6F0C1A9D3E4F5A8B7C6D5E4F3A2B11",
            at(2026, 11, 28, 10, 0, 2, 118000),
        ),
    ]
    assert recipient.outcome == Outcome.VIBER_DELIVERED
    assert recipient.delivered_at == at(2026, 11, 28, 10, 0, 2, 118000)
    assert recipient.read_at is None
    assert CallbackEvent.objects.get().kind == CallbackEvent.Kind.DELIVERY


def test_read_report_after_delivery_sets_the_read_time(client):
    recipient = recipient_for("viber_delivered")
    replay(client, "viber_delivered")
    assert replay(client, "viber_read").status_code == 200
    recipient.refresh_from_db()
    assert attempts(recipient) == [
        (
            "viber",
            3005,
            "2B6F0C1A9D3E4F5A8B7C6D5E4F3A2B11",
            at(2026, 11, 28, 10, 0, 22, 540000),
        ),
    ]
    assert (recipient.outcome, recipient.status_code) == (Outcome.VIBER_DELIVERED, 3005)
    assert recipient.delivered_at == at(2026, 11, 28, 10, 0, 2, 118000)
    assert recipient.read_at == at(2026, 11, 28, 10, 0, 22, 540000)
    assert list(
        CallbackEvent.objects.order_by("pk").values_list("kind", "status_code")
    ) == [(CallbackEvent.Kind.DELIVERY, 3000), (CallbackEvent.Kind.READ, 3005)]


def test_read_report_alone_implies_delivery(client):
    recipient = recipient_for("viber_read")
    replay(client, "viber_read")
    recipient.refresh_from_db()
    assert recipient.outcome == Outcome.VIBER_DELIVERED
    assert (
        recipient.delivered_at
        == recipient.read_at
        == at(2026, 11, 28, 10, 0, 22, 540000)
    )


# --- failures ----------------------------------------------------------------------


def test_no_viber_without_fallback_fails_the_recipient(client):
    campaign = make_campaign(sms_fallback_enabled=False, sms_text="")
    recipient = recipient_for("viber_not_supported", campaign=campaign)
    assert replay(client, "viber_not_supported").status_code == 200
    recipient.refresh_from_db()
    assert recipient.outcome == Outcome.FAILED
    assert recipient.failure_reason == (
        "Viber: 3055 Channel not supported by the user's device"
    )
    assert recipient.delivered_at is None


def test_no_viber_with_fallback_waits_for_the_sms(client):
    recipient = recipient_for("viber_not_supported")
    replay(client, "viber_not_supported")
    recipient.refresh_from_db()
    assert (recipient.outcome, recipient.failure_reason) == (Outcome.PENDING, "")
    assert attempts(recipient)[0][:2] == ("viber", 3055)


def test_sms_fallback_failing_too_fails_the_recipient(client):
    recipient = recipient_for("fallback_sms_failed")
    assert replay(client, "fallback_sms_failed").status_code == 200
    recipient.refresh_from_db()
    assert [a[:3] for a in attempts(recipient)] == [
        ("viber", 3055, "E1F2A3B4C5D6E7F8091A2B3C4D5E6F71"),
        ("sms", 3031, "E1F2A3B4C5D6E7F8091A2B3C4D5E6F72"),
    ]
    assert (recipient.outcome, recipient.failure_reason) == (
        Outcome.FAILED,
        "SMS: 3031 Permanent phone error",
    )
    assert (recipient.status_code, recipient.last_channel) == (3031, "sms")


# --- fallback: in progress, then delivered ---------------------------------------


def test_fallback_in_progress_keeps_the_recipient_pending(client):
    recipient = recipient_for("fallback_sms_in_progress")
    assert replay(client, "fallback_sms_in_progress").status_code == 200
    recipient.refresh_from_db()
    # Telesign leaves out the SMS leg's reference while it is still 3001.
    assert attempts(recipient) == [
        (
            "viber",
            3055,
            "C4D5E6F708192A3B4C5D6E7F80911A21",
            at(2026, 11, 28, 10, 0, 1, 4000),
        ),
        ("sms", 3001, None, at(2026, 11, 28, 10, 0, 1, 10000)),
    ]
    assert (recipient.outcome, recipient.status_code, recipient.last_channel) == (
        Outcome.PENDING,
        3001,
        "sms",
    )
    assert recipient.delivered_at is None


def test_fallback_delivered_after_in_progress_delivers_by_sms(client):
    recipient = recipient_for("fallback_sms_in_progress")
    replay(client, "fallback_sms_in_progress")
    assert replay(client, "fallback_sms_delivered").status_code == 200
    recipient.refresh_from_db()
    assert attempts(recipient) == [
        (
            "viber",
            3055,
            "C4D5E6F708192A3B4C5D6E7F80911A21",
            at(2026, 11, 28, 10, 0, 1, 4000),
        ),
        (
            "sms",
            3000,
            "C4D5E6F708192A3B4C5D6E7F80911A22",
            at(2026, 11, 28, 10, 0, 5, 377000),
        ),
    ]
    assert recipient.outcome == Outcome.SMS_DELIVERED
    assert recipient.delivered_at == at(2026, 11, 28, 10, 0, 5, 377000)
    assert ChannelAttempt.objects.count() == 2


def test_fallback_reports_in_reverse_order_give_the_same_result(client):
    recipient = recipient_for("fallback_sms_in_progress")
    replay(client, "fallback_sms_delivered")
    replay(client, "fallback_sms_in_progress")
    recipient.refresh_from_db()
    assert recipient.outcome == Outcome.SMS_DELIVERED
    assert [a[:3] for a in attempts(recipient)] == [
        ("viber", 3055, "C4D5E6F708192A3B4C5D6E7F80911A21"),
        ("sms", 3000, "C4D5E6F708192A3B4C5D6E7F80911A22"),
    ]


# --- inbound (MO) replies --------------------------------------------------------


def test_viber_stop_reply_opts_out_and_names_the_message_it_answers(client):
    contact = make_contact("+447911123456")
    recipient = recipient_for("viber_delivered", contact=contact)
    assert replay(client, "viber_reply").status_code == 200
    contact.refresh_from_db()
    recipient.refresh_from_db()
    assert contact.is_opted_out and contact.opt_out_source == "reply"
    assert recipient.opted_out_at is not None
    reply = InboundMessage.objects.get()
    assert (reply.phone, reply.text, reply.action) == (
        "+447911123456",
        "STOP",
        "opt_out",
    )
    assert (reply.recipient, reply.campaign_id) == (recipient, recipient.campaign_id)
    event = CallbackEvent.objects.get()
    assert (event.kind, event.reference_id, event.processing) == (
        CallbackEvent.Kind.INBOUND,
        "0A1B2C3D4E5F60718293A4B5C6D7E8F9",
        CallbackEvent.Processing.APPLIED,
    )
    assert event.recipient == recipient


def test_sms_stop_reply_opts_out_a_number_never_seen(client):
    assert replay(client, "sms_reply").status_code == 200
    contact = Contact.objects.get(phone="+447911123457")
    assert contact.is_opted_out
    reply = InboundMessage.objects.get()
    assert (reply.text, reply.action, reply.contact, reply.recipient) == (
        "Stop",
        "opt_out",
        contact,
        None,
    )
    assert CallbackEvent.objects.get().kind == CallbackEvent.Kind.INBOUND
