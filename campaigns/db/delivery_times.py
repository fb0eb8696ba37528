"""How long deliveries took, sent → delivered: the count and the median and
90th percentile in seconds, per outcome of one campaign.

Nearest-rank percentiles (the smallest time that at least p of the
deliveries took no longer than), the same on both databases: PostgreSQL's
`percentile_disc` in one statement; on SQLite a count and one `OFFSET` read
per percentile.
"""

import math
from collections.abc import Sequence
from typing import NamedTuple

from django.db import connection

from ..models import Recipient

# (name, share) of each percentile, in the order DeliveryTimes lists them.
PERCENTILES = (("median", 0.5), ("p90", 0.9))


class DeliveryTimes(NamedTuple):
    count: int
    median: float | None = None
    p90: float | None = None


def delivery_times(
    *, campaign_id: int, outcomes: Sequence[str]
) -> dict[str, DeliveryTimes]:
    """DeliveryTimes of each of `outcomes` (a count of 0 and no percentiles
    when none was delivered), over recipients with both times, test sends
    left out."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _postgresql(cursor, campaign_id, outcomes)
        return _sqlite(cursor, campaign_id, outcomes)


# Table names come from model metadata; every value is a parameter.
_TABLE = Recipient._meta.db_table
_DELIVERED = "delivered_at IS NOT NULL AND sent_at IS NOT NULL"


def _postgresql(cursor, campaign_id: int, outcomes: Sequence[str]) -> dict:
    placeholders = ", ".join(["%s"] * len(outcomes))
    cursor.execute(
        "SELECT outcome, count(*), percentile_disc(%s::float8[]) WITHIN"  # noqa: S608
        " GROUP (ORDER BY extract(epoch from delivered_at - sent_at))"
        f" FROM {_TABLE} WHERE campaign_id = %s AND is_test = %s"
        f" AND outcome IN ({placeholders}) AND {_DELIVERED} GROUP BY outcome",
        [[share for _, share in PERCENTILES], campaign_id, False, *outcomes],
    )
    found = {
        outcome: DeliveryTimes(count, *(float(value) for value in values))
        for outcome, count, values in cursor.fetchall()
    }
    return {outcome: found.get(outcome, DeliveryTimes(0)) for outcome in outcomes}


def _sqlite(cursor, campaign_id: int, outcomes: Sequence[str]) -> dict:
    where = (
        f"FROM {_TABLE} WHERE campaign_id = %s AND is_test = %s AND outcome = %s"
        f" AND {_DELIVERED}"
    )
    seconds = "(julianday(delivered_at) - julianday(sent_at)) * 86400.0"
    result = {}
    for outcome in outcomes:
        cursor.execute(f"SELECT count(*) {where}", [campaign_id, False, outcome])
        count = cursor.fetchone()[0]
        values = []
        for _, share in PERCENTILES if count else ():
            cursor.execute(
                f"SELECT {seconds} {where} ORDER BY 1 LIMIT 1 OFFSET %s",
                [campaign_id, False, outcome, max(math.ceil(share * count) - 1, 0)],
            )
            values.append(round(cursor.fetchone()[0], 3))
        result[outcome] = DeliveryTimes(count, *values)
    return result
