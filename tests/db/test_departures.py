"""The prepared in-flight mark and slot reservation change rows as the
ORM's versions would."""

import datetime as dt

import pytest
from django.db import connection  # noqa: F401 - read by the skipif conditions
from django.db.models import Exists
from django.utils import timezone

from campaigns.db.departures import (
    recipients_mark_in_flight,
    send_slots_reserve_postgres,
)
from campaigns.models import Campaign, Recipient
from campaigns.services.sending.slots import (
    RATE_HEADROOM,
    send_slots_reserve,
    send_slots_reserve_orm,
)

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


def recipients_mark_in_flight_orm(
    *, campaign_id: int, ids: list[int], worker_id: str
) -> set[int]:
    """The prepared mark's update, by the ORM."""
    sending = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING)
    Recipient.objects.filter(
        Exists(sending), id__in=ids, claimed_by=worker_id, send_status=RS.CLAIMED
    ).update(send_status=RS.IN_FLIGHT, claimed_at=timezone.now())
    return set(
        Recipient.objects.filter(
            id__in=ids, claimed_by=worker_id, send_status=RS.IN_FLIGHT
        ).values_list("id", flat=True)
    )


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


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="PostgreSQL only: SQLite reserves through the ORM (CI runs both)",
)
@pytest.mark.parametrize("ahead", [None, -5.0, 3.0])
def test_prepared_slot_reservation_matches_the_orm(ahead):
    def campaign_with_slots():
        campaign = make_campaign([], max_send_rate=20)
        next_slot = (
            None if ahead is None else timezone.now() + dt.timedelta(seconds=ahead)
        )
        Campaign.objects.filter(pk=campaign.pk).update(
            status=Campaign.Status.SENDING, next_send_slot_at=next_slot
        )
        return campaign

    prepared, orm = campaign_with_slots(), campaign_with_slots()
    before = timezone.now()
    start, gap = send_slots_reserve_postgres(
        campaign_id=prepared.pk, count=4, headroom=RATE_HEADROOM, now=before
    )
    orm_status, orm_start, orm_gap = send_slots_reserve_orm(campaign_id=orm.pk, count=4)
    assert orm_status == Campaign.Status.SENDING
    assert gap == pytest.approx(orm_gap) == pytest.approx(1 / 18)
    # Both start now (when nothing is reserved ahead) or where the last
    # reservation ended; both end four gaps later.
    assert abs((start - orm_start).total_seconds()) < 0.5
    assert start >= before - dt.timedelta(microseconds=1)
    ends = Campaign.objects.filter(pk__in=[prepared.pk, orm.pk]).order_by("pk")
    prepared_end, orm_end = ends.values_list("next_send_slot_at", flat=True)
    assert prepared_end - start == orm_end - orm_start
    assert abs((prepared_end - start).total_seconds() - 4 * gap) < 1e-5


def test_nothing_is_reserved_for_a_campaign_that_is_not_sending():
    campaign = make_campaign([], max_send_rate=20)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PAUSED)
    status, _, gap = send_slots_reserve(campaign_id=campaign.pk, count=3)
    assert (status, gap) == (Campaign.Status.PAUSED, 0.0)
    assert Campaign.objects.get(pk=campaign.pk).next_send_slot_at is None
