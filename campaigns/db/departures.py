"""Marking recipients in flight as their requests leave: one prepared UPDATE.

The send loop runs it for every few requests, so it is written once here
instead of compiled by the ORM each time (the ORM's version of the same
update, `recipients_mark_in_flight_orm`, is what the test compares it to).
"""

from datetime import datetime, timedelta

from django.db import connection

from ..models import Campaign, Recipient


def recipients_mark_in_flight(
    *, campaign_id: int, ids: list[int], worker_id: str, now: datetime
) -> set[int]:
    """Set `in_flight` (and the claim time) on those of `ids` that `worker_id`
    still holds as claimed, only while the campaign is sending; returns the
    ids marked."""
    if not ids:
        return set()
    quote = connection.ops.quote_name
    recipients = quote(Recipient._meta.db_table)
    campaigns = quote(Campaign._meta.db_table)
    placeholders = ", ".join(["%s"] * len(ids))
    # EXISTS, not a join: the UPDATE keeps its own WHERE on the recipient row,
    # which PostgreSQL checks again after waiting for a concurrent cancel.
    sql = (
        f"UPDATE {recipients} SET send_status = %s, claimed_at = %s"  # noqa: S608 - names from model metadata
        f" WHERE id IN ({placeholders}) AND claimed_by = %s AND send_status = %s"
        f" AND EXISTS (SELECT 1 FROM {campaigns} WHERE id = %s AND status = %s)"
        " RETURNING id"
    )
    params = [
        Recipient.SendStatus.IN_FLIGHT,
        connection.ops.adapt_datetimefield_value(now),
        *ids,
        worker_id,
        Recipient.SendStatus.CLAIMED,
        campaign_id,
        Campaign.Status.SENDING,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def send_slots_reserve_postgres(
    *, campaign_id: int, count: int, headroom: float, now: datetime
) -> tuple[datetime, float] | None:
    """On PostgreSQL, reserve `count` slots in one statement (the row lock is
    the UPDATE's own): returns (first slot, gap), or None when the campaign is
    not sending. `slots.send_slots_reserve_orm` is the same by the ORM."""
    table = connection.ops.quote_name(Campaign._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_send_slot_at ="  # noqa: S608 - names from model metadata
            " GREATEST(%s, COALESCE(next_send_slot_at, %s))"
            " + make_interval(secs => %s / (max_send_rate * %s)),"
            " last_activity_at = %s"
            " WHERE id = %s AND status = %s"
            " RETURNING next_send_slot_at, max_send_rate",
            [
                now,
                now,
                float(count),
                headroom,
                now,
                campaign_id,
                Campaign.Status.SENDING,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    end, rate = row
    gap = 1.0 / (rate * headroom)
    return end - timedelta(seconds=gap * count), gap
