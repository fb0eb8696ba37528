"""The prepared callback INSERT stores the row the ORM would, and says whether
the event's recipient is known."""

from datetime import timedelta
from hashlib import sha256

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.db import callback_events
from campaigns.db.callback_events import (
    callback_event_insert,
    callback_event_store_once,
    event_columns,
)
from campaigns.models import CallbackEvent

from ..callback_helpers import make_recipient

pytestmark = pytest.mark.django_db


# What the request path gives every event; the rest comes from the report.
REQUEST = {
    "method": "POST",
    "headers": {"User-Agent": "Telesign", "Authorization": "TSA CUSTOMER"},
    "raw_body": b'{"reference_id": "R"}',
    "signature": CallbackEvent.Signature.VALID,
}


def received(**fields) -> CallbackEvent:
    """An unsaved event, as the request path builds it."""
    return CallbackEvent(**REQUEST, **fields)


def stored_rows() -> list[dict]:
    """Every stored event's values, but its id and time of arrival."""
    rows = list(CallbackEvent.objects.order_by("id").values())
    for row in rows:
        row.update(id=None, received_at=None, raw_body=bytes(row["raw_body"]))
    return rows


@pytest.mark.parametrize(
    "fields",
    [
        {
            "kind": CallbackEvent.Kind.DELIVERY,
            "status_code": 3000,
            "reference_id": "R" * 32,
            "external_id": "c1-1",
        },
        {"kind": CallbackEvent.Kind.INBOUND},
        {"kind": CallbackEvent.Kind.READ, "status_code": 3005, "reference_id": "S"},
    ],
)
def test_the_insert_stores_the_row_the_orm_would(fields):
    before = timezone.now()
    callback_event_insert(received(**fields))
    CallbackEvent.objects.create(**REQUEST, **fields)
    by_insert, by_orm = stored_rows()
    assert by_insert == by_orm
    assert by_insert["processing"] == CallbackEvent.Processing.RECEIVED
    first = CallbackEvent.objects.order_by("id").first()
    assert before <= first.received_at <= timezone.now() + timedelta(seconds=1)


def test_every_field_but_the_id_is_written():
    names = {f.name for f in event_columns()}
    assert names == {f.name for f in CallbackEvent._meta.concrete_fields} - {"id"}


@pytest.mark.parametrize(
    ("reference_id", "external_id", "known"),
    [
        ("K" * 32, "", True),
        ("", "c-known", True),
        ("U" * 32, "c-known", True),  # an unconfirmed send: known by external id
        ("U" * 32, "c-unknown", False),
        ("", "", False),
    ],
)
def test_the_insert_says_whether_the_recipient_is_known(
    reference_id, external_id, known
):
    make_recipient(reference_id="K" * 32, external_id="c-known")
    event = received(reference_id=reference_id, external_id=external_id)
    assert callback_event_insert(event) is known
    assert CallbackEvent.objects.filter(reference_id=reference_id).count() == 1


def test_the_processing_state_is_a_parameter_not_part_of_the_statement():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the prepared statement")
    statement = callback_events._prepare_sql()
    for state in CallbackEvent.Processing.values:
        assert f"'{state}'" not in statement


def test_the_statement_is_prepared_once_per_connection():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: the prepared statement")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    callback_events._PREPARED_ON.discard(connection.connection)
    with CaptureQueriesContext(connection) as queries:
        callback_event_insert(received(reference_id="A"))
        callback_event_insert(received(reference_id="B"))
    statements = [q["sql"].split(" ", 1)[0] for q in queries]
    assert statements == ["PREPARE", "EXECUTE", "EXECUTE"]
    assert CallbackEvent.objects.count() == 2


def test_a_copy_of_a_stored_body_is_counted_not_stored_again():
    make_recipient(reference_id="K" * 32)
    body = b'{"reference_id": "K"}'
    for _ in range(3):
        copy = received(reference_id="K" * 32, body_sha256=sha256(body).digest())
        assert callback_event_insert(copy) is True  # known, on every copy
    event = CallbackEvent.objects.get()
    assert event.received_count == 3
    assert event.received_at <= event.last_received_at


def test_storing_once_gives_the_stored_events_id_count_and_state():
    digest = sha256(REQUEST["raw_body"]).digest()
    first = callback_event_store_once(received(body_sha256=digest))
    assert (first.received_count, first.processing) == (1, "received")
    CallbackEvent.objects.filter(pk=first.pk).update(processing="applied")
    again = callback_event_store_once(received(body_sha256=digest))
    assert (again.pk, again.received_count, again.processing) == (
        first.pk,
        2,
        "applied",
    )
    stored = CallbackEvent.objects.get()
    assert stored.last_received_at is not None
