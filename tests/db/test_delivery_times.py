"""Delivery-time percentiles from SQL equal the nearest-rank percentiles of
the durations the ORM reads."""

import datetime as dt
import math

import pytest
from django.db.models import F

from campaigns.db.delivery_times import PERCENTILES, DeliveryTimes, delivery_times
from campaigns.models import Recipient

from ..factories import make_campaign, make_contact
from ..report_helpers import T0, make_recipient

pytestmark = pytest.mark.django_db

O = Recipient.Outcome  # noqa: E741
OUTCOMES = [O.VIBER_DELIVERED, O.SMS_DELIVERED, O.FAILED]


def _by_orm(campaign) -> dict[str, DeliveryTimes]:
    answer = {}
    for outcome in OUTCOMES:
        durations = sorted(
            duration.total_seconds()
            for duration in Recipient.objects.filter(
                campaign=campaign,
                is_test=False,
                outcome=outcome,
                delivered_at__isnull=False,
                sent_at__isnull=False,
            )
            .annotate(took=F("delivered_at") - F("sent_at"))
            .values_list("took", flat=True)
        )
        ranks = [max(math.ceil(p * len(durations)) - 1, 0) for _, p in PERCENTILES]
        answer[outcome] = DeliveryTimes(
            len(durations), *(durations[rank] for rank in ranks if durations)
        )
    return answer


def test_percentiles_match_the_nearest_rank_of_the_orm_durations():
    campaign = make_campaign()
    other = make_campaign()
    seconds = {
        O.VIBER_DELIVERED: [0.5, 3.25, 7, 7, 12.125, 60, 61.5, 300, 301, 1800.75],
        O.SMS_DELIVERED: [42.5],
    }
    for outcome, takes in seconds.items():
        for took in takes:
            make_recipient(
                campaign, make_contact(), outcome=outcome, sent_at=T0,
                delivered_at=T0 + dt.timedelta(seconds=took),
            )  # fmt: skip
    # Left out: another campaign, a test send, no sent time, not delivered.
    make_recipient(
        other, make_contact(), outcome=O.VIBER_DELIVERED, sent_at=T0,
        delivered_at=T0 + dt.timedelta(seconds=9999),
    )  # fmt: skip
    Recipient.objects.create(
        campaign=campaign, phone="+15550000000", is_test=True, external_id="t-1",
        outcome=O.VIBER_DELIVERED, sent_at=T0,
        delivered_at=T0 + dt.timedelta(seconds=9999),
    )  # fmt: skip
    make_recipient(
        campaign, make_contact(), outcome=O.VIBER_DELIVERED,
        delivered_at=T0 + dt.timedelta(seconds=9999),
    )  # fmt: skip
    make_recipient(campaign, make_contact(), outcome=O.FAILED, sent_at=T0)

    by_sql = delivery_times(campaign_id=campaign.pk, outcomes=OUTCOMES)
    by_orm = _by_orm(campaign)
    assert by_sql.keys() == by_orm.keys()
    for outcome in OUTCOMES:
        assert by_sql[outcome] == pytest.approx(by_orm[outcome], abs=1e-3), outcome
    assert by_sql[O.VIBER_DELIVERED] == pytest.approx((10, 12.125, 301), abs=1e-3)
    assert by_sql[O.SMS_DELIVERED] == pytest.approx((1, 42.5, 42.5), abs=1e-3)
    assert by_sql[O.FAILED] == DeliveryTimes(0, None, None)
