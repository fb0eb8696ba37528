"""Send slots: how a campaign's rate holds across every worker.

Before sending, a worker reserves send slots on the campaign row
(`next_send_slot_at`, under a row lock), one slot per message, 1/rate seconds
apart, and sends each message at its slot. Slots are reserved only for
requests that can leave at once, so nobody falls behind their slots and
bursts cannot pile up.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ...models import Campaign, Recipient

RS = Recipient.SendStatus
# Slots are spaced for 90% of the maximum rate: requests leave a little late
# now and then (threads, processes sharing cores, network), and the slack keeps
# a late one and its on-time successors from crowding into one second.
RATE_HEADROOM = 0.9


def recipients_prepare_sending(
    *, campaign_id: int, ids: list[int], worker_id: str
) -> tuple[str, datetime, float, list[int]]:
    """Reserve send slots and mark recipients in flight, in one transaction.

    Returns (campaign status, first slot, gap between slots, ids to send in
    slot order). Nothing is prepared unless the campaign is still sending. The
    campaign row lock makes every worker's slots disjoint, which is what keeps
    the campaign's rate across workers and machines.
    """
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update()
            .only("status", "max_send_rate", "next_send_slot_at")
            .get(pk=campaign_id)
        )
        # Read the clock once the lock is ours: a time taken before waiting for
        # it could start this group's slots in the past, and late slots leave
        # together.
        now = timezone.now()
        if campaign.status != Campaign.Status.SENDING or not ids:
            return campaign.status, now, 0.0, []
        gap = 1.0 / (campaign.max_send_rate * RATE_HEADROOM)
        start = max(now, campaign.next_send_slot_at or now)
        # The claim is dated when the last of them leaves, so that recovering
        # dead workers' claims never takes one that is only waiting its turn.
        leaves_by = start + timedelta(seconds=gap * len(ids))
        marked = Recipient.objects.filter(
            id__in=ids, claimed_by=worker_id, send_status=RS.CLAIMED
        ).update(send_status=RS.IN_FLIGHT, claimed_at=leaves_by)
        leaving = ids
        if marked != len(ids):  # some claims expired meanwhile: not ours to send
            still_ours = set(
                Recipient.objects.filter(
                    id__in=ids, claimed_by=worker_id, send_status=RS.IN_FLIGHT
                ).values_list("id", flat=True)
            )
            leaving = [i for i in ids if i in still_ours]
        Campaign.objects.filter(pk=campaign_id).update(
            next_send_slot_at=start + timedelta(seconds=gap * len(leaving)),
            last_activity_at=now,
        )
    return Campaign.Status.SENDING, start, gap, leaving
