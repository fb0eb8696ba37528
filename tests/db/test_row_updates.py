"""Writing fields of many rows from arrays gives the rows the ORM's own
updates would, and writes only the fields named."""

from datetime import UTC, datetime

import pytest

from campaigns.db.row_updates import rows_update
from campaigns.models import CallbackEvent, Recipient

from ..callback_helpers import make_recipient

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 28, 10, 0, 4, tzinfo=UTC)
RECIPIENT_FIELDS = [
    "reference_id",
    "status_code",
    "status_description",
    "status_updated_on",
    "last_channel",
    "outcome",
    "failure_reason",
    "delivered_at",
    "read_at",
    "send_status",
]


def changed_recipients(prefix: str) -> list[Recipient]:
    """Three recipients changed in memory: delivered, failed, and one whose
    values go back to empty."""
    delivered, failed, emptied = (make_recipient() for _ in range(3))
    delivered.reference_id, delivered.status_code = f"{prefix}1", 3000
    delivered.status_updated_on = delivered.delivered_at = AT
    delivered.outcome = Recipient.Outcome.SMS_DELIVERED
    delivered.last_channel, delivered.send_status = "sms", Recipient.SendStatus.ACCEPTED
    failed.reference_id, failed.status_code = f"{prefix}2", 3055
    failed.status_description, failed.failure_reason = "invalid", "Viber: 3055"
    failed.outcome = Recipient.Outcome.FAILED
    emptied.status_code, emptied.read_at, emptied.reference_id = None, None, None
    # Not among the fields written: must stay as stored.
    for recipient in (delivered, failed, emptied):
        recipient.phone = "+440000000000"
    return [delivered, failed, emptied]


def values_of(rows, fields) -> list[tuple]:
    model = type(rows[0])
    stored = model.objects.filter(pk__in=[r.pk for r in rows]).order_by("id")
    return list(stored.values_list(*fields))


def comparable(rows, prefix: str) -> list[tuple]:
    """The written values, each set's reference prefix removed (references
    are unique, so each set has its own)."""
    reference = RECIPIENT_FIELDS.index("reference_id")
    return [
        (
            *row[:reference],
            (row[reference] or "").removeprefix(prefix),
            *row[reference + 1 :],
        )
        for row in values_of(rows, RECIPIENT_FIELDS)
    ]


def test_recipients_get_the_rows_the_orm_would():
    by_sql, by_orm = changed_recipients("A"), changed_recipients("B")
    phones = values_of(by_sql, ["phone"])
    rows_update(Recipient, RECIPIENT_FIELDS, by_sql)
    for recipient in by_orm:
        recipient.save(update_fields=RECIPIENT_FIELDS)
    assert comparable(by_sql, "A") == comparable(by_orm, "B")
    assert values_of(by_sql, ["outcome", "reference_id"]) == [
        ("sms_delivered", "A1"),
        ("failed", "A2"),
        ("pending", None),
    ]
    assert values_of(by_sql, ["phone"]) == phones


def test_events_get_the_rows_the_orm_would_including_their_recipient():
    recipient = make_recipient()
    fields = ["kind", "reference_id", "external_id", "status_code", "recipient"]
    fields.append("processing")

    def changed_events() -> list[CallbackEvent]:
        events = [
            CallbackEvent.objects.create(method="POST", raw_body=b"", signature="valid")
            for _ in range(2)
        ]
        applied, orphan = events
        applied.kind, applied.status_code = CallbackEvent.Kind.READ, 3005
        applied.reference_id, applied.recipient = "R", recipient
        applied.processing = CallbackEvent.Processing.APPLIED
        orphan.kind, orphan.external_id = CallbackEvent.Kind.DELIVERY, "c-9"
        orphan.processing = CallbackEvent.Processing.ORPHAN
        return events

    by_sql, by_orm = changed_events(), changed_events()
    rows_update(CallbackEvent, fields, by_sql)
    CallbackEvent.objects.bulk_update(by_orm, fields)
    assert values_of(by_sql, fields) == values_of(by_orm, fields)
    assert values_of(by_sql, ["processing", "recipient"]) == [
        ("applied", recipient.pk),
        ("orphan", None),
    ]


def test_no_rows_sends_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        rows_update(Recipient, RECIPIENT_FIELDS, [])
