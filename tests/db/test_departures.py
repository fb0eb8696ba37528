"""The prepared in-flight mark changes rows as the ORM's update would."""

import pytest
from django.utils import timezone

from campaigns.db.departures import recipients_mark_in_flight
from campaigns.models import Campaign, Recipient
from campaigns.services.sending.slots import recipients_mark_in_flight_orm

from ..factories import make_campaign

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus
WORKER = "worker-a"


def recipients(campaign, prefix: str) -> list[Recipient]:
    """Four claimed by WORKER, one by another worker, one already cancelled."""
    rows = [
        (WORKER, RS.CLAIMED),
        (WORKER, RS.CLAIMED),
        (WORKER, RS.CLAIMED),
        (WORKER, RS.CLAIMED),
        ("worker-b", RS.CLAIMED),
        (WORKER, RS.CANCELLED),
    ]
    return [
        Recipient.objects.create(
            campaign=campaign,
            phone=f"+4479111{i:05d}",
            external_id=f"{prefix}-{i}",
            is_test=True,
            send_status=status,
            claimed_by=worker,
        )
        for i, (worker, status) in enumerate(rows)
    ]


def state(rows: list[Recipient]) -> list[tuple]:
    return [
        (r.send_status, r.claimed_by, r.claimed_at is not None)
        for r in Recipient.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk")
    ]


@pytest.mark.parametrize("status", [Campaign.Status.SENDING, Campaign.Status.PAUSED])
def test_prepared_mark_matches_the_orm(status):
    prepared_campaign, orm_campaign = make_campaign([]), make_campaign([])
    Campaign.objects.filter(pk__in=[prepared_campaign.pk, orm_campaign.pk]).update(
        status=status
    )
    prepared_rows = recipients(prepared_campaign, "p")
    orm_rows = recipients(orm_campaign, "o")

    marked = recipients_mark_in_flight(
        campaign_id=prepared_campaign.pk,
        ids=[r.pk for r in prepared_rows],
        worker_id=WORKER,
        now=timezone.now(),
    )
    orm_marked = recipients_mark_in_flight_orm(
        campaign_id=orm_campaign.pk, ids=[r.pk for r in orm_rows], worker_id=WORKER
    )

    assert state(prepared_rows) == state(orm_rows)
    offsets = {r.pk: i for i, r in enumerate(prepared_rows)}
    orm_offsets = {r.pk: i for i, r in enumerate(orm_rows)}
    assert {offsets[i] for i in marked} == {orm_offsets[i] for i in orm_marked}
    expected = {0, 1, 2, 3} if status == Campaign.Status.SENDING else set()
    assert {offsets[i] for i in marked} == expected
