"""Send slots and departures: how a campaign's rate holds across every worker,
and what "in flight" means.

A worker reserves send slots on the campaign row (`next_send_slot_at`, under a
row lock), one per claimed recipient, 1/(rate × RATE_HEADROOM) seconds apart;
every worker's slots are disjoint. Reserving a slot does not put a recipient
in flight: it stays claimed while it waits. Only when its slot is at most
`DEPARTURE_LEAD` away and a sending thread is free is it marked in flight
(`recipients_mark_in_flight`), in groups no larger than the free threads, so
a worker never has more than `SEND_CONCURRENCY` recipients in flight and a
crash leaves only those (the ones that may have reached Telesign) unconfirmed.

The rate guarantee: a request never leaves before its slot, and never more
than `MAX_LATENESS` after it (a late one is not sent; it takes a new slot).
Slots are spaced for 90% of the rate, so any one-second window holds at most
ceil(0.9 × rate × (1 + lateness)) departures, which is at most the rate while
lateness stays under 1/9 s: `MAX_LATENESS` leaves the rest of that margin to
the network between us and Telesign.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from ...db import departures
from ...models import Campaign, Recipient

RS = Recipient.SendStatus
RATE_HEADROOM = 0.9
# A recipient is marked in flight at most this long before its slot.
DEPARTURE_LEAD = 0.02
# A request that cannot leave within this long after its slot is not sent.
MAX_LATENESS = 0.05


def send_slots_reserve(*, campaign_id: int, count: int) -> tuple[str, datetime, float]:
    """Reserve `count` consecutive send slots: returns (campaign status, first
    slot, gap between slots). Nothing is reserved unless the campaign is still
    sending. Called inside the send loop's transaction, for every few
    requests: on PostgreSQL one statement (`campaigns.db.departures`).

    The recipients stay claimed while they wait (dated when claimed: a claim
    is held for seconds, far within SEND_CLAIM_TIMEOUT).
    """
    if connection.vendor != "postgresql" or count <= 0:
        return send_slots_reserve_orm(campaign_id=campaign_id, count=count)
    reserved = departures.send_slots_reserve_postgres(
        campaign_id=campaign_id,
        count=count,
        headroom=RATE_HEADROOM,
        now=timezone.now(),
    )
    if reserved is None:
        status = Campaign.objects.values_list("status", flat=True).get(pk=campaign_id)
        return status, timezone.now(), 0.0
    return Campaign.Status.SENDING, *reserved


def send_slots_reserve_orm(
    *, campaign_id: int, count: int
) -> tuple[str, datetime, float]:
    """`send_slots_reserve` by the ORM, under a row lock (SQLite serialises
    writers anyway)."""
    with transaction.atomic(savepoint=False):
        campaign = (
            Campaign.objects.select_for_update()
            .only("status", "max_send_rate", "next_send_slot_at")
            .get(pk=campaign_id)
        )
        # Read the clock once the lock is ours: a time taken before waiting for
        # it could start this group's slots in the past, and late slots leave
        # together.
        now = timezone.now()
        if campaign.status != Campaign.Status.SENDING or count <= 0:
            return campaign.status, now, 0.0
        gap = 1.0 / (campaign.max_send_rate * RATE_HEADROOM)
        start = max(now, campaign.next_send_slot_at or now)
        Campaign.objects.filter(pk=campaign_id).update(
            next_send_slot_at=start + timedelta(seconds=gap * count),
            last_activity_at=now,
        )
    return Campaign.Status.SENDING, start, gap


def recipients_mark_in_flight(
    *, campaign_id: int, ids: list[int], worker_id: str
) -> set[int]:
    """Mark claimed recipients in flight just before their requests leave;
    returns those marked. A recipient is left out when its claim expired and
    went elsewhere, or was cancelled, or its campaign is no longer sending:
    after a pause or cancel commits, nothing more leaves."""
    return departures.recipients_mark_in_flight(
        campaign_id=campaign_id, ids=ids, worker_id=worker_id, now=timezone.now()
    )


def recipients_in_flight_unmark(*, ids: list[int], worker_id: str) -> int:
    """Back to claimed: recipients marked in flight whose requests did not
    leave because they were late for their slot; they wait for a new one."""
    return Recipient.objects.filter(
        id__in=ids, claimed_by=worker_id, send_status=RS.IN_FLIGHT
    ).update(send_status=RS.CLAIMED, claimed_at=timezone.now())
