"""The callback endpoint's HTTP answers: the view maps what became of a request
to a status and a body, exactly as published in the OpenAPI schema."""

import json
from hashlib import sha256

import pytest
from django.core.checks import run_checks

from campaigns.api.views import callback_answer
from campaigns.models import CallbackEvent, CallbackRejection, ChannelAttempt, Recipient
from campaigns.services import (
    CallbackOutcome,
    CallbackReceived,
    callbacks_apply_pending,
)

from ..callback_helpers import (
    SEED,
    SEED_REFERENCE,
    delivery,
    make_recipient,
    post_callback,
    signed_headers,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("received", "status", "body"),
    [
        (
            CallbackReceived(CallbackOutcome.APPLIED),
            200,
            {"stored": True, "applied": True},
        ),
        (
            CallbackReceived(CallbackOutcome.STORED),
            200,
            {"stored": True, "applied": False},
        ),
        (
            CallbackReceived(CallbackOutcome.APPLY_FAILED),
            200,
            {"stored": True, "applied": False},
        ),
        (
            CallbackReceived(CallbackOutcome.ORPHAN),
            202,
            {"stored": True, "matched": False},
        ),
        (
            CallbackReceived(CallbackOutcome.NOT_JSON, error="Expecting value"),
            400,
            {"error": "The body is not valid JSON: Expecting value"},
        ),
        (
            CallbackReceived(CallbackOutcome.BAD_SHAPE, fields={"status": "missing"}),
            400,
            {"error": "Unexpected callback shape.", "fields": {"status": "missing"}},
        ),
        (
            CallbackReceived(CallbackOutcome.SANDBOX_REFUSED),
            401,
            {"error": "Callbacks signed with the sandbox's key are refused."},
        ),
        (
            CallbackReceived(CallbackOutcome.TOO_LARGE),
            413,
            {"error": "The body exceeds 65536 bytes."},
        ),
        (
            CallbackReceived(CallbackOutcome.MISSING_SIGNATURE),
            401,
            {"error": "Missing or invalid Telesign signature."},
        ),
        (
            CallbackReceived(CallbackOutcome.BAD_SIGNATURE),
            401,
            {"error": "Missing or invalid Telesign signature."},
        ),
    ],
    ids=lambda value: getattr(getattr(value, "outcome", None), "value", None),
)
def test_each_outcome_has_its_answer(received, status, body):
    answer = callback_answer(received)
    assert (answer.status_code, answer.data) == (status, body)


def test_every_outcome_is_answered():
    for outcome in CallbackOutcome:
        assert callback_answer(CallbackReceived(outcome)).status_code in (
            200,
            202,
            400,
            401,
            413,
        )


# --- through the endpoint, applied at once --------------------------------------


def test_seed_get_with_a_json_body_is_accepted_too(client):
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    assert post_callback(client, SEED.read_bytes(), method="get").status_code == 200
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.SMS_DELIVERED
    assert CallbackEvent.objects.get().method == "GET"


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


# --- through the endpoint, stored for the batch applier -------------------------


def test_deferred_unknown_references_are_answered_202_and_kept_as_orphans(
    client, settings
):
    settings.CALLBACK_APPLY = "deferred"
    answer = post_callback(client, delivery("F" * 32, code=3000))
    assert answer.status_code == 202
    assert answer.json() == {"stored": True, "matched": False}
    callbacks_apply_pending()
    assert CallbackEvent.objects.get().processing == CallbackEvent.Processing.ORPHAN


def test_deferred_bad_input_is_answered_at_once_and_kept_as_failed(client, settings):
    settings.CALLBACK_APPLY = "deferred"
    not_json = post_callback(client, b"{not json")
    assert not_json.status_code == 400
    assert "not valid JSON" in not_json.json()["error"]
    wrong = post_callback(client, {"reference_id": 5, "status": "x"})
    assert wrong.status_code == 400
    assert wrong.json()["fields"]
    assert set(CallbackEvent.objects.values_list("processing", flat=True)) == {
        CallbackEvent.Processing.FAILED
    }
    assert callbacks_apply_pending() == 0


# --- whatever a signed body holds, it is stored and answered --------------------

HOSTILE = {
    "nested 32k levels": b"[" * 32_000 + b"]" * 32_000,
    "10k nested objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "code 2^31": json.dumps(delivery("A" * 32, code=2**31)).encode(),
    "code 2^70": json.dumps(delivery("A" * 32, code=2**70)).encode(),
    "NUL in the reference": json.dumps(delivery("A\x00B", code=3000)).encode(),
    "lone surrogate in the reference": b'{"reference_id": "\\ud800",'
    b' "status": {"code": 3000}}',
    "lone surrogate as a channel name": b'{"reference_id": "R", "status":'
    b' {"code": 3000}, "channel_status": [{"\\ud800": {"code": "x"}}]}',
}


@pytest.mark.parametrize("apply", ["inline", "deferred"])
@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_signed_body_that_cannot_be_read_is_kept_failed_and_answered_400(
    client, settings, apply, case
):
    settings.CALLBACK_APPLY = apply
    body = HOSTILE[case]
    response = post_callback(client, body)
    assert response.status_code == 400
    assert response.json()["error"] == "Unexpected callback shape."
    event = CallbackEvent.objects.get()
    assert bytes(event.raw_body) == body
    assert event.processing == CallbackEvent.Processing.FAILED
    assert event.error.startswith("Unexpected shape: ")
    # The next callback is applied as usual.
    recipient = make_recipient(reference_id="B" * 32)
    assert post_callback(client, delivery("B" * 32, code=3000)).status_code == 200
    callbacks_apply_pending()
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.VIBER_DELIVERED


@pytest.mark.parametrize("apply", ["inline", "deferred"])
def test_text_no_column_can_hold_is_applied_with_replacement_characters(
    client, settings, apply
):
    settings.CALLBACK_APPLY = apply
    recipient = make_recipient(reference_id="A" * 32)
    payload = delivery("A" * 32, code=3000)
    payload["status"]["description"] = "Delivered\x00\ud800"
    assert post_callback(client, payload).status_code == 200
    callbacks_apply_pending()
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.VIBER_DELIVERED
    assert recipient.status_description == "Delivered\ufffd\ufffd"


# --- a body received again is stored once ---------------------------------------


@pytest.mark.parametrize(
    ("apply", "answer"),
    [
        ("inline", {"stored": True, "applied": True}),
        ("deferred", {"stored": True, "applied": False}),
    ],
)
def test_a_callback_replayed_1000_times_is_stored_once_and_answered_alike(
    client, settings, apply, answer
):
    settings.CALLBACK_APPLY = apply
    recipient = make_recipient(reference_id="A" * 32)
    body = json.dumps(delivery("A" * 32, code=3000)).encode()
    answers = {
        (r.status_code, json.dumps(r.json()))
        for r in (post_callback(client, body) for _ in range(1000))
    }
    assert answers == {(200, json.dumps(answer))}
    event = CallbackEvent.objects.get()
    assert event.received_count == 1000
    assert event.received_at < event.last_received_at
    assert event.body_sha256 == sha256(body).digest()
    callbacks_apply_pending()
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.VIBER_DELIVERED


@pytest.mark.parametrize("apply", ["inline", "deferred"])
def test_a_copy_is_answered_as_its_first_copy_was(client, settings, apply):
    settings.CALLBACK_APPLY = apply
    orphan, not_json = delivery("F" * 32, code=3000), b"{not json"
    first = [post_callback(client, orphan), post_callback(client, not_json)]
    again = [post_callback(client, orphan), post_callback(client, not_json)]
    assert [(r.status_code, r.json()) for r in again] == [
        (r.status_code, r.json()) for r in first
    ]
    assert [r.status_code for r in again] == [202, 400]
    assert sorted(CallbackEvent.objects.values_list("received_count", flat=True)) == [
        2,
        2,
    ]


def test_a_different_report_for_the_same_reference_is_stored_on_its_own(client):
    make_recipient(reference_id="A" * 32)
    post_callback(client, delivery("A" * 32, code=3001))
    post_callback(client, delivery("A" * 32, code=3000))
    assert CallbackEvent.objects.count() == 2


# --- sandbox mode (no credentials) needs DEBUG --------------------------------------


def test_sandbox_signed_callbacks_are_refused_when_debug_is_off(client, settings):
    settings.DEBUG = False
    settings.TELESIGN_SANDBOX_WITHOUT_DEBUG = False
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    response = post_callback(client, SEED.read_bytes())
    assert response.status_code == 401
    assert "sandbox" in response.json()["error"]
    assert CallbackEvent.objects.count() == 0
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.PENDING
    assert CallbackRejection.objects.get().reason == "sandbox_refused"


@pytest.mark.parametrize("allowed_by", ["DEBUG", "TELESIGN_SANDBOX_WITHOUT_DEBUG"])
def test_sandbox_signed_callbacks_are_accepted_in_development_or_when_allowed(
    client, settings, allowed_by
):
    settings.DEBUG = False
    settings.TELESIGN_SANDBOX_WITHOUT_DEBUG = False
    setattr(settings, allowed_by, True)
    make_recipient(reference_id=SEED_REFERENCE)
    assert post_callback(client, SEED.read_bytes()).status_code == 200


def test_with_credentials_the_sandbox_key_signs_nothing_whatever_debug_says(
    client, settings
):
    settings.DEBUG = True
    settings.TELESIGN_CUSTOMER_ID = "CUST"
    settings.TELESIGN_API_KEY = "bmV3LWtleQ=="
    settings.TELESIGN_CALLBACK_API_KEYS = ["bmV3LWtleQ=="]
    make_recipient(reference_id=SEED_REFERENCE)
    assert post_callback(client, SEED.read_bytes()).status_code == 401
    signed = post_callback(
        client, SEED.read_bytes(), key="bmV3LWtleQ==", customer="CUST"
    )
    assert signed.status_code == 200
