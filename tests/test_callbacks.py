"""Telesign callbacks through the real endpoint: signed, lossless, idempotent."""

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from telesign.util import verify_telesign_callback_signature

from campaigns.models import (
    CallbackEvent,
    CallbackRejection,
    ChannelAttempt,
    Contact,
    InboundMessage,
    Recipient,
)
from campaigns.services import callbacks, sending
from campaigns.telesign import SendResult, SendStatus
from campaigns.telesign.callbacks import parse_provider_time
from campaigns.telesign.signing import callback_signature, callback_signature_valid

from .callback_helpers import delivery, post_callback, signed_headers
from .factories import make_audience, make_campaign, make_contact

pytestmark = pytest.mark.django_db
SEED = Path(__file__).parent / "fixtures" / "telesign" / "seed_callback.json"
SEED_REFERENCE = "35C8B5D509BC10689196FED2AD551B8A"
RS = Recipient.SendStatus


def make_recipient(campaign=None, **fields):
    campaign = campaign or make_campaign()
    contact = fields.pop("contact", None) or make_contact()
    defaults = {
        "phone": contact.phone,
        "external_id": f"c{campaign.pk}-{contact.pk}",
        "send_status": RS.ACCEPTED,
    }
    return Recipient.objects.create(
        campaign=campaign, contact=contact, **{**defaults, **fields}
    )


# --- the seed example ---------------------------------------------------------


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


def test_seed_get_with_a_json_body_is_accepted_too(client):
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    assert post_callback(client, SEED.read_bytes(), method="get").status_code == 200
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.SMS_DELIVERED
    assert CallbackEvent.objects.get().method == "GET"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-05-04 22:07:01:226", datetime(2020, 5, 4, 22, 7, 1, 226000, UTC)),
        ("2020-05-04 22:05:00.325", datetime(2020, 5, 4, 22, 5, 0, 325000, UTC)),
        ("2024-11-12T13:08:35.212526Z", datetime(2024, 11, 12, 13, 8, 35, 212526, UTC)),
        ("2020-08-27T19:28:49+02:00", datetime(2020, 8, 27, 17, 28, 49, tzinfo=UTC)),
        ("Thu, 23 Jun 2022 19:03:44 GMT", datetime(2022, 6, 23, 19, 3, 44, tzinfo=UTC)),
        ("2022-31-03T14:51:28.709526Z", None),  # month 31, from Telesign's docs
        ("yesterday", None),
        (None, None),
    ],
)
def test_timestamps_are_parsed_leniently_as_utc(text, expected):
    assert parse_provider_time(text) == expected


# --- signatures ---------------------------------------------------------------


def test_valid_signature_in_x_ts_authorization_alone_is_accepted(client):
    make_recipient(reference_id=SEED_REFERENCE)
    body = SEED.read_bytes()
    header = signed_headers(body)["Authorization"]
    response = post_callback(client, body, headers={"X-TS-Authorization": header})
    assert response.status_code == 200


def _tamper(body: bytes, header: str, case: str):
    cid, signature = header.removeprefix("TSA ").split(":", 1)
    if case == "missing":
        return body, {}
    if case == "wrong key":
        return body, signed_headers(body, key="b3RoZXIta2V5")
    if case == "truncated":
        return body, {"Authorization": f"TSA {cid}:{signature[:-4]}"}
    if case == "other customer":
        return body, {"Authorization": f"TSA SOMEONE-ELSE:{signature}"}
    if case == "body changed":
        return body.replace(b"3000", b"3001", 1), {"Authorization": header}
    if case == "malformed":
        return body, {"Authorization": "Bearer abc"}
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "wrong key",
        "truncated",
        "other customer",
        "body changed",
        "malformed",
    ],
)
def test_bad_signatures_are_refused_and_counted_without_effect(client, case):
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    body = SEED.read_bytes()
    body, headers = _tamper(body, signed_headers(body)["Authorization"], case)
    response = post_callback(client, body, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "Missing or invalid Telesign signature."
    assert CallbackEvent.objects.count() == 0
    assert ChannelAttempt.objects.count() == 0
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.PENDING
    rejection = CallbackRejection.objects.get()
    assert rejection.count == 1
    assert rejection.reason == (
        "missing_signature" if case == "missing" else "bad_signature"
    )


def test_rotated_keys_are_all_accepted(client, settings):
    settings.TELESIGN_CUSTOMER_ID = "CUST"
    settings.TELESIGN_API_KEY = "bmV3LWtleQ=="
    settings.TELESIGN_CALLBACK_API_KEYS = ["b2xkLWtleQ==", "bmV3LWtleQ=="]
    make_recipient(reference_id=SEED_REFERENCE)
    body = SEED.read_bytes()
    for key in settings.TELESIGN_CALLBACK_API_KEYS:
        response = post_callback(client, body, key=key, customer="CUST")
        assert response.status_code == 200
    assert (
        post_callback(client, body, key="c3RhbGU=", customer="CUST").status_code == 401
    )


def test_unsigned_callbacks_only_when_allowed_and_flagged_by_deploy_check(
    client, settings
):
    make_recipient(reference_id=SEED_REFERENCE)
    assert post_callback(client, SEED.read_bytes(), headers={}).status_code == 401
    settings.TELESIGN_CALLBACKS_ALLOW_UNSIGNED = True
    assert post_callback(client, SEED.read_bytes(), headers={}).status_code == 200
    assert CallbackEvent.objects.get().signature == "unsigned_allowed"
    ids = {m.id for m in run_checks(include_deployment_checks=True)}
    assert "campaigns.W001" in ids


@given(key=st.binary(min_size=1, max_size=64), body=st.text(max_size=300))
@hsettings(max_examples=200, deadline=None)
def test_our_signature_matches_the_official_sdk(key, body):
    import base64

    api_key = base64.b64encode(key).decode()
    signature = callback_signature(api_key, body.encode())
    assert verify_telesign_callback_signature(api_key, signature, body)
    assert callback_signature_valid(
        body=body.encode(),
        header=f"TSA C:{signature}",
        customer_id="C",
        api_keys=[api_key],
    )
    assert not callback_signature_valid(
        body=(body + " ").encode(),
        header=f"TSA C:{signature}",
        customer_id="C",
        api_keys=[api_key],
    )


# --- bad input ----------------------------------------------------------------


def test_not_json_gets_400_with_a_json_error_and_is_kept(client):
    response = post_callback(client, b"{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    event = CallbackEvent.objects.get()
    assert event.processing == CallbackEvent.Processing.FAILED
    assert bytes(event.raw_body) == b"{not json"


def test_wrong_shape_gets_400_naming_the_fields(client):
    response = post_callback(
        client,
        {
            "reference_id": "X",
            "status": {"code": "3000"},
            "channel_status": [{"viber": 5}],
        },
    )
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {"status.code", "channel_status[0]"}


def test_oversized_body_gets_413(client):
    payload = delivery("A" * 32, code=3000)
    payload["padding"] = "x" * 70_000
    assert post_callback(client, payload).status_code == 413
    assert CallbackEvent.objects.count() == 0
    assert CallbackRejection.objects.get().reason == "too_large"


def test_unknown_reference_is_stored_as_orphan_with_202(client):
    response = post_callback(client, delivery("F" * 32, code=3000))
    assert response.status_code == 202
    assert CallbackEvent.objects.get().processing == CallbackEvent.Processing.ORPHAN


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


# --- matching and order -------------------------------------------------------


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


def fallback_sequence(reference):
    """What Telesign sends for a Viber timeout, SMS delivered, then duplicates."""
    viber_failed = ("viber", 3056, "V" + reference[1:], "2026-11-28 10:10:00.000")
    return [
        delivery(
            reference,
            code=3001,
            last="sms",
            at="2026-11-28 10:10:00:000",
            channels=[viber_failed, ("sms", 3001, None, "2026-11-28 10:10:00.000")],
        ),
        delivery(
            reference,
            code=3000,
            last="sms",
            at="2026-11-28 10:10:04:000",
            channels=[
                viber_failed,
                ("sms", 3000, "S" + reference[1:], "2026-11-28 10:10:04"),
            ],
        ),
    ]


def read_sequence(reference):
    viber = ("viber", 3000, "V" + reference[1:], "2026-11-28 10:00:02.000")
    read = ("viber", 3005, "V" + reference[1:], "2026-11-28 10:00:22.000")
    return [
        delivery(reference, code=3000, channels=[viber], at="2026-11-28 10:00:02:000"),
        delivery(reference, code=3005, channels=[read], at="2026-11-28 10:00:22:000"),
    ]


def final_state(recipient):
    recipient.refresh_from_db()
    attempts = sorted(
        # Reference ids differ per recipient; their channel letter is what counts.
        (a.channel, a.position, a.status_code, (a.reference_id or "-")[0], a.updated_on)
        for a in recipient.attempts.all()
    )
    return (
        recipient.outcome,
        recipient.status_code,
        recipient.last_channel,
        recipient.delivered_at,
        recipient.read_at,
        recipient.failure_reason,
        tuple(attempts),
    )


_counter = itertools.count()


def apply_at_once(payload) -> None:
    callbacks.delivery_report_apply(
        event=CallbackEvent.objects.create(
            method="POST", raw_body=b"", signature="valid"
        ),
        report=callbacks.parse_callback(payload),
    )


def for_every_order_and_duplication(test):
    """Run `test(sequence, data)` for each callback sequence, with 40 drawn
    orders and duplications (see `in_order_and_shuffled`)."""
    return pytest.mark.parametrize("sequence", [fallback_sequence, read_sequence])(
        given(data=st.data())(
            hsettings(
                max_examples=40,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture],
            )(test)
        )
    )


def in_order_and_shuffled(sequence, data):
    """The final state of a recipient given `sequence` in Telesign's order, and
    a second recipient with the same reports shuffled and partly duplicated."""
    campaign = make_campaign()
    expected_recipient = make_recipient(
        campaign=campaign, reference_id=f"{next(_counter):032X}"
    )
    for payload in sequence(expected_recipient.reference_id):
        apply_at_once(payload)
    recipient = make_recipient(campaign=campaign, reference_id=f"{next(_counter):032X}")
    payloads = sequence(recipient.reference_id)
    shuffled = data.draw(
        st.permutations(
            payloads + data.draw(st.lists(st.sampled_from(payloads), max_size=4))
        )
    )
    return final_state(expected_recipient), recipient, shuffled


@for_every_order_and_duplication
def test_any_order_and_duplication_gives_the_same_final_state(sequence, data):
    expected, recipient, shuffled = in_order_and_shuffled(sequence, data)
    for payload in shuffled:
        apply_at_once(payload)
    assert final_state(recipient) == expected


def test_applying_a_callback_costs_a_fixed_number_of_queries(
    client, django_assert_num_queries
):
    first, second = (
        make_recipient(reference_id="A" * 32),
        make_recipient(reference_id="B" * 32),
    )
    # Store the event, find the recipient, read its attempts, upsert them,
    # update the recipient, mark the event: 6 statements, plus two savepoint
    # pairs (the request's transaction is itself a savepoint inside the test's).
    for recipient in (first, second):
        payloads = fallback_sequence(recipient.reference_id)
        with django_assert_num_queries(10):
            post_callback(client, payloads[0])
        with django_assert_num_queries(10):
            post_callback(client, payloads[1])


# --- replies ------------------------------------------------------------------


def viber_reply(phone, text, original=None):
    return {
        "reference_id": "9" * 32,
        "status": {
            "code": 1500,
            "description": "Delivered",
            "updated_on": "2026-11-28T10:00:00Z",
        },
        "phone_number": phone.lstrip("+"),
        "content": {"text": text, "original_reference_id": original},
    }


def test_stop_reply_opts_out_and_a_later_campaign_skips_the_contact(client):
    contact = make_contact("+447911555001", name="Ana")
    recipient = make_recipient(
        contact=contact,
        reference_id="A" * 32,
        sent_at=datetime(2026, 11, 28, tzinfo=UTC),
    )
    assert (
        post_callback(client, viber_reply(contact.phone, " stop ")).status_code == 200
    )
    contact.refresh_from_db()
    recipient.refresh_from_db()
    assert contact.is_opted_out and contact.opt_out_source == "reply"
    assert recipient.opted_out_at is not None
    reply = InboundMessage.objects.get()
    assert (reply.action, reply.campaign_id, reply.recipient_id) == (
        "opt_out",
        recipient.campaign_id,
        recipient.pk,
    )

    later = make_campaign([make_audience(contacts=[contact, make_contact()])])
    result = sending.campaign_launch(campaign=later)
    assert result.suppressed == 1
    assert Recipient.objects.get(
        campaign=later, contact=contact
    ).suppression_reason == ("opted_out")


def test_start_reply_opts_back_in_and_other_replies_are_stored(client):
    contact = make_contact(
        "+447911555002", opted_out_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    post_callback(client, viber_reply(contact.phone, "START"))
    contact.refresh_from_db()
    assert not contact.is_opted_out
    post_callback(client, viber_reply(contact.phone, "What time do you open?"))
    assert list(
        InboundMessage.objects.order_by("received_at").values_list("action", "text")
    ) == [("opt_in", "START"), ("none", "What time do you open?")]


def test_stop_from_an_unknown_number_is_remembered(client):
    post_callback(client, viber_reply("+447911555003", "UNSUBSCRIBE"))
    assert Contact.objects.get(phone="+447911555003").is_opted_out


def test_sms_reply_shape_is_understood(client):
    contact = make_contact("+447911555004")
    payload = {
        "reference_id": "8" * 32,
        "sub_resource": "mo_sms",
        "errors": {},
        "user_response": {
            "phone_number": contact.phone.lstrip("+"),
            "mo_message": "Stop",
            "action": "stop",
        },
    }
    assert post_callback(client, payload).status_code == 200
    contact.refresh_from_db()
    assert contact.is_opted_out


def test_opted_out_while_sending_is_skipped_by_the_engine():
    contact = make_contact("+447911555005")
    campaign = make_campaign([make_audience(contacts=[contact])])
    sending.campaign_launch(campaign=campaign)
    Contact.objects.filter(pk=contact.pk).update(opted_out_at=datetime.now(UTC))
    assert sending.recipients_claim(campaign=campaign, worker_id="w", limit=10) == []
    recipient = Recipient.objects.get(campaign=campaign)
    assert (recipient.outcome, recipient.suppression_reason) == (
        "suppressed",
        "opted_out",
    )


# --- reprocessing -------------------------------------------------------------


def test_failed_events_can_be_reprocessed_by_command(client, monkeypatch):
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    real = callbacks.delivery_report_apply

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(callbacks, "delivery_report_apply", broken)
    assert post_callback(client, SEED.read_bytes()).status_code == 200
    event = CallbackEvent.objects.get()
    assert event.processing == CallbackEvent.Processing.FAILED
    assert "database hiccup" in event.error

    monkeypatch.setattr(callbacks, "delivery_report_apply", real)
    call_command("callbacks_reprocess", "--failed")
    event.refresh_from_db()
    recipient.refresh_from_db()
    assert event.processing == CallbackEvent.Processing.APPLIED
    assert recipient.outcome == Recipient.Outcome.SMS_DELIVERED


def test_replaying_stored_events_rebuilds_a_recipient(client):
    recipient = make_recipient(reference_id="A" * 32)
    for payload in fallback_sequence("A" * 32):
        post_callback(client, payload)
    before = final_state(recipient)
    Recipient.objects.filter(pk=recipient.pk).update(
        outcome="failed", failure_reason="corrupted"
    )
    recipient.attempts.all().delete()
    callbacks.recipient_rebuild_from_events(recipient=recipient)
    assert final_state(recipient) == before


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
