"""The attempts upsert writes the rows the ORM's bulk_create(update_conflicts)
would: new attempts inserted, known ones (by recipient and channel) updated."""

from datetime import UTC, datetime

import pytest

from campaigns.db.channel_attempts import channel_attempts_upsert
from campaigns.models import Channel, ChannelAttempt

from ..callback_helpers import make_recipient

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 28, 10, 0, 4, tzinfo=UTC)
ALL_FIELDS = [
    "status_code",
    "status_description",
    "updated_on",
    "reference_id",
    "position",
]


def changes_for(recipient, prefix: str) -> list[ChannelAttempt]:
    """A known Viber attempt, changed in memory, and a new SMS attempt."""
    viber = ChannelAttempt.objects.create(
        recipient=recipient,
        channel=Channel.VIBER,
        position=0,
        status_code=3001,
        status_description="sent",
    )
    viber.status_code, viber.status_description = 3056, "timed out"
    viber.updated_on, viber.reference_id = AT, f"{prefix}-viber"
    sms = ChannelAttempt(
        recipient=recipient,
        channel=Channel.SMS,
        position=1,
        status_code=3000,
        status_description="delivered",
        updated_on=AT,
        reference_id=None,
    )
    return [viber, sms]


def rows_of(recipient, prefix: str) -> list[tuple]:
    return [
        (
            a.channel,
            a.position,
            a.status_code,
            a.status_description,
            a.updated_on,
            (a.reference_id or "").removeprefix(prefix),
        )
        for a in ChannelAttempt.objects.filter(recipient=recipient).order_by("channel")
    ]


@pytest.mark.parametrize(
    "fields", [ALL_FIELDS, ["status_code"]], ids=["all fields", "one field"]
)
def test_the_upsert_writes_the_rows_the_orm_would(fields):
    by_sql, by_orm = make_recipient(), make_recipient()
    channel_attempts_upsert(changes_for(by_sql, "A"), fields=fields)
    ChannelAttempt.objects.bulk_create(
        changes_for(by_orm, "B"),
        update_conflicts=True,
        unique_fields=["recipient", "channel"],
        update_fields=fields,
    )
    assert rows_of(by_sql, "A") == rows_of(by_orm, "B")
    assert len(rows_of(by_sql, "A")) == 2


def test_the_upsert_of_every_field_updates_the_known_attempt_and_adds_the_new():
    recipient = make_recipient()
    channel_attempts_upsert(changes_for(recipient, "A"), fields=ALL_FIELDS)
    assert rows_of(recipient, "A") == [
        (Channel.SMS, 1, 3000, "delivered", AT, ""),
        (Channel.VIBER, 0, 3056, "timed out", AT, "-viber"),
    ]


def test_nothing_to_upsert_sends_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        channel_attempts_upsert([], fields=ALL_FIELDS)
