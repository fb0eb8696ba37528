"""The prepared UPDATE for Telesign's answers changes rows as the ORM would."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.db.send_results import recipients_claimed_update
from campaigns.models import Recipient
from campaigns.services.sending.results import RESULT_COLUMNS

from ..factories import make_campaign

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus
WORKER = "worker-a"


CLAIMED_AT = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)


def claimed_recipients(campaign, count: int, prefix: str) -> list[Recipient]:
    """Recipients in flight, the last one held by another worker."""
    return [
        Recipient.objects.create(
            campaign=campaign,
            phone=f"+4479111{i:05d}",
            is_test=True,
            external_id=f"{prefix}-{i}",
            send_status=RS.IN_FLIGHT,
            claimed_by=WORKER if i < count - 1 else "worker-b",
            claimed_at=CLAIMED_AT,
            send_attempts=1,
        )
        for i in range(count)
    ]


def answer(group: str, now: dt.datetime, reference: str) -> list:
    """Values for the group's columns, as `send_results_record` gives them."""
    return {
        "accepted": [RS.ACCEPTED, reference, now, 2],
        "unconfirmed": [RS.UNCONFIRMED, now, "Timed out after sending", 1],
        "rejected": [
            RS.REJECTED,
            now,
            Recipient.Outcome.FAILED,
            3101,
            "Invalid phone_number",
            "3101 Invalid phone_number",
            1,
        ],
        "queued": [RS.QUEUED, "", now + dt.timedelta(seconds=30), 2],
    }[group]


def rows(recipients: list[Recipient]) -> list[dict]:
    ids = [r.pk for r in recipients]
    return [
        {
            k: v
            for k, v in row.items()
            if k not in ("id", "external_id", "reference_id", "created_at")
        }
        for row in Recipient.objects.filter(id__in=ids).order_by("id").values()
    ]


@pytest.mark.parametrize("group", list(RESULT_COLUMNS))
def test_the_prepared_update_gives_the_orm_rows(group):
    campaign = make_campaign()
    by_sql = claimed_recipients(campaign, 3, "sql")
    by_orm = claimed_recipients(campaign, 3, "orm")
    columns = RESULT_COLUMNS[group]
    now = timezone.now()

    recipients_claimed_update(
        columns=columns,
        rows=[[*answer(group, now, f"sql{r.pk:029d}"), r.pk, WORKER] for r in by_sql],
    )
    for recipient in by_orm:
        values = answer(group, now, f"orm{recipient.pk:029d}")
        Recipient.objects.filter(pk=recipient.pk, claimed_by=WORKER).update(
            **dict(zip(columns, values, strict=True)), claimed_at=None
        )

    assert rows(by_sql) == rows(by_orm)
    changed = rows(by_sql)
    status = answer(group, now, "")[0]
    assert [row["send_status"] for row in changed] == [status] * 2 + [RS.IN_FLIGHT]
    assert changed[-1]["claimed_at"] == CLAIMED_AT  # another worker's claim
    references = Recipient.objects.filter(pk__in=[r.pk for r in by_sql])
    expected = [f"sql{r.pk:029d}" for r in by_sql[:2]] + [None]
    assert list(references.order_by("id").values_list("reference_id", flat=True)) == (
        expected if group == "accepted" else [None] * 3
    )
