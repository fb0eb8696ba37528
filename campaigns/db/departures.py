"""Marking recipients in flight as their requests leave, and reserving send
slots on PostgreSQL: one prepared statement each.

The send loop runs them for every few requests, so they are written once here
instead of compiled by the ORM each time; tests/db/test_departures.py
compares each with the same update by the ORM.
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
            # clock_timestamp(), not a time read before the statement: the time
            # once the row lock is ours, as the ORM version reads it, so a wait
            # for the lock cannot start this group's slots in the past.
            f"UPDATE {table} SET next_send_slot_at ="  # noqa: S608 - names from model metadata
            " GREATEST(clock_timestamp(),"
            " COALESCE(next_send_slot_at, clock_timestamp()))"
            " + make_interval(secs => %s / (max_send_rate * %s)),"
            " last_activity_at = %s"
            " WHERE id = %s AND status = %s"
            " RETURNING next_send_slot_at, max_send_rate",
            [
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
