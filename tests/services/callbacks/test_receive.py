"""Receiving a callback request: what the service says became of it (the API
view's HTTP answers are tested in tests/api), and what storing costs."""

import json

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from campaigns.models import CallbackEvent, CallbackRejection
from campaigns.services.callbacks import (
    CallbackOutcome,
    callback_receive,
    callback_request_receive,
    callback_store,
    callbacks_apply_pending,
)

from ...callback_helpers import (
    SEED,
    SEED_REFERENCE,
    delivery,
    fallback_sequence,
    make_recipient,
    new_reference,
    post_callback,
    signed_headers,
    store,
)

pytestmark = pytest.mark.django_db


def receive(body: bytes, *, headers=None, declared_length=None):
    return callback_request_receive(
        method="POST",
        headers=signed_headers(body) if headers is None else headers,
        declared_length=len(body) if declared_length is None else declared_length,
        read_body=lambda: body,
        remote_addr="192.0.2.1",
    )


def authenticated(payload) -> dict:
    return {
        "method": "POST",
        "headers": {},
        "body": json.dumps(payload).encode(),
        "signature": "valid",
    }


# --- refused: counted, never stored ---------------------------------------------


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(
    settings,
):
    def read_body():
        raise AssertionError("an oversized body must not be read")

    received = callback_request_receive(
        method="POST",
        headers={},
        declared_length=settings.CALLBACK_MAX_BODY_BYTES + 1,
        read_body=read_body,
        remote_addr="192.0.2.1",
    )
    assert received.outcome == CallbackOutcome.TOO_LARGE
    rejection = CallbackRejection.objects.get()
    assert (rejection.reason, rejection.count, rejection.last_remote_addr) == (
        "too_large",
        1,
        "192.0.2.1",
    )


def test_a_body_over_the_limit_is_refused_whatever_length_was_declared(settings):
    body = b"x" * (settings.CALLBACK_MAX_BODY_BYTES + 1)
    assert receive(body, declared_length=0).outcome == CallbackOutcome.TOO_LARGE
    assert CallbackEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("headers", "outcome"),
    [
        ({}, CallbackOutcome.MISSING_SIGNATURE),
        ({"Authorization": "TSA someone:bad"}, CallbackOutcome.BAD_SIGNATURE),
        ({"X-TS-Authorization": "TSA someone:bad"}, CallbackOutcome.BAD_SIGNATURE),
    ],
)
def test_an_unsigned_or_badly_signed_request_is_refused_and_counted(headers, outcome):
    received = receive(SEED.read_bytes(), headers=headers)
    assert (received.outcome, received.event) == (outcome, None)
    assert CallbackEvent.objects.count() == 0
    assert list(CallbackRejection.objects.values_list("reason", "count")) == [
        (outcome.value, 1)
    ]


def test_refusals_are_counted_per_day_and_reason():
    for _ in range(3):
        receive(b"{}", headers={})
    receive(b"{}", headers={"Authorization": "TSA x:y"})
    assert dict(CallbackRejection.objects.values_list("reason", "count")) == {
        "missing_signature": 3,
        "bad_signature": 1,
    }


# --- stored, and applied at once ------------------------------------------------


def test_a_known_recipients_report_is_applied():
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    received = receive(SEED.read_bytes())
    assert received.outcome == CallbackOutcome.APPLIED
    assert received.event == CallbackEvent.objects.get()
    assert received.event.recipient == recipient


def test_an_unknown_reference_is_an_orphan():
    received = callback_receive(**authenticated(delivery("F" * 32, code=3000)))
    assert received.outcome == CallbackOutcome.ORPHAN
    assert received.event.processing == CallbackEvent.Processing.ORPHAN


def test_a_body_that_is_not_json_is_kept_and_said_so():
    received = receive(b"{not json")
    assert received.outcome == CallbackOutcome.NOT_JSON
    assert received.error.startswith("Expecting property name")
    assert received.event.error == f"The body is not JSON: {received.error}"


def test_a_body_of_the_wrong_shape_is_kept_with_the_problem_of_each_field():
    received = callback_receive(**authenticated({"reference_id": "X", "status": 5}))
    assert received.outcome == CallbackOutcome.BAD_SHAPE
    assert received.fields == {"status": "is required and must be an object"}
    assert CallbackEvent.objects.get().processing == CallbackEvent.Processing.FAILED


def test_a_report_that_cannot_be_applied_is_kept_for_reprocessing(monkeypatch):
    from campaigns.services.callbacks import apply

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(apply, "delivery_report_apply", broken)
    received = receive(SEED.read_bytes())
    assert received.outcome == CallbackOutcome.APPLY_FAILED
    assert received.event.processing == CallbackEvent.Processing.FAILED


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


# --- stored for the batch applier (CALLBACK_APPLY=deferred) ---------------------


def test_deferred_a_callback_is_only_stored(settings):
    settings.CALLBACK_APPLY = "deferred"
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    received = receive(SEED.read_bytes())
    assert (received.outcome, received.event) == (CallbackOutcome.STORED, None)
    event = CallbackEvent.objects.get()
    assert (event.processing, event.recipient_id) == ("received", None)
    assert event.reference_id == recipient.reference_id


def test_deferred_a_reply_is_stored_and_an_unknown_reference_is_an_orphan(settings):
    settings.CALLBACK_APPLY = "deferred"
    reply = {"phone_number": "447911123456", "content": {"text": "hi"}}
    assert store(reply).outcome == CallbackOutcome.STORED
    assert store(delivery("F" * 32, code=3000)).outcome == CallbackOutcome.ORPHAN
    assert store({"status": 5}).outcome == CallbackOutcome.BAD_SHAPE
    not_json = callback_store(**{**authenticated({}), "body": b"{not json"})
    assert not_json.outcome == CallbackOutcome.NOT_JSON
    assert set(CallbackEvent.objects.values_list("processing", flat=True)) == {
        "received",
        "failed",
    }


@pytest.mark.django_db(transaction=True)
def test_a_callback_is_stored_on_a_new_connection_when_the_old_one_was_lost(
    client, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: persistent connections (CI runs it there)")
    settings.CALLBACK_APPLY = "deferred"
    recipient = make_recipient(reference_id=new_reference())
    # The connection a request would reuse, with the statement prepared on it.
    store(delivery(recipient.reference_id, code=3001))
    lost_backend = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [lost_backend])
    finally:
        other.close()
    connection.health_check_done = False  # as at the start of a new request

    answer = post_callback(client, delivery(recipient.reference_id, code=3000))

    assert answer.status_code == 200
    assert connection.connection.info.backend_pid != lost_backend
    assert CallbackEvent.objects.filter(status_code=3000).count() == 1
    assert callbacks_apply_pending() == 2
    recipient.refresh_from_db()
    assert recipient.status_code == 3000


# --- whatever is signed is stored -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_deferred_a_value_a_column_refuses_still_leaves_the_body_stored(
    settings, monkeypatch
):
    """The parser should catch every value no column can hold; if one slips
    through, the raw body is kept all the same, marked failed."""
    from campaigns.services.callbacks import receive as receive_module

    def overflowing(event, report):
        event.status_code = 2**70  # refused by both databases' integer column

    settings.CALLBACK_APPLY = "deferred"
    monkeypatch.setattr(receive_module, "event_describe", overflowing)
    body = SEED.read_bytes()
    received = receive(body)
    assert received.outcome == CallbackOutcome.APPLY_FAILED
    event = CallbackEvent.objects.get()
    assert bytes(event.raw_body) == body
    assert event.processing == CallbackEvent.Processing.FAILED
    assert event.error.startswith("Could not be stored as read: ")


# --- a copy of a stored body ------------------------------------------------------


def test_a_copy_is_counted_on_the_stored_event_and_applies_nothing_again():
    recipient = make_recipient(reference_id=SEED_REFERENCE)
    first, again = receive(SEED.read_bytes()), receive(SEED.read_bytes())
    assert (first.outcome, again.outcome) == (CallbackOutcome.APPLIED,) * 2
    assert again.event.pk == first.event.pk
    event = CallbackEvent.objects.get()
    assert (event.received_count, event.recipient) == (2, recipient)
    assert event.last_received_at >= event.received_at


def test_a_copy_of_a_report_that_failed_to_apply_is_answered_as_it_was(monkeypatch):
    from campaigns.services.callbacks import apply

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(apply, "delivery_report_apply", broken)
    outcomes = [receive(SEED.read_bytes()).outcome for _ in range(2)]
    assert outcomes == [CallbackOutcome.APPLY_FAILED] * 2
    assert CallbackEvent.objects.get().received_count == 2


def test_deferred_a_copy_costs_the_same_one_statement(settings):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the prepared statement")
    settings.CALLBACK_APPLY = "deferred"
    make_recipient(reference_id=SEED_REFERENCE)
    receive(SEED.read_bytes())
    with CaptureQueriesContext(connection) as queries:
        received = receive(SEED.read_bytes())
    assert received.outcome == CallbackOutcome.STORED
    assert [q["sql"].split(" ", 1)[0] for q in queries] == ["EXECUTE"]
    assert CallbackEvent.objects.get().received_count == 2
