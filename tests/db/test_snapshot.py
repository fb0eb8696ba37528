"""Reads inside read_snapshot() see one moment of the database, whatever
other connections write meanwhile (a report's queries agree)."""

import threading

import pytest
from django.db import connection

from campaigns.db.snapshot import read_snapshot
from campaigns.models import Recipient

from ..factories import make_audience, make_campaign, make_contact
from ..report_helpers import make_recipient


def delivered(campaign) -> int:
    return Recipient.objects.filter(
        campaign=campaign, outcome=Recipient.Outcome.VIBER_DELIVERED
    ).count()


@pytest.mark.django_db(transaction=True)
def test_a_delivery_written_between_two_reads_is_seen_by_neither():
    contact = make_contact()
    campaign = make_campaign([make_audience(contacts=[contact])])
    recipient = make_recipient(campaign, contact)
    first_read, written = threading.Event(), threading.Event()

    def deliver():  # a callback, on its own connection
        first_read.wait(timeout=10)
        Recipient.objects.filter(pk=recipient.pk).update(
            outcome=Recipient.Outcome.VIBER_DELIVERED
        )
        connection.close()
        written.set()

    callback = threading.Thread(target=deliver)
    callback.start()
    with read_snapshot():
        before = delivered(campaign)
        first_read.set()
        # PostgreSQL commits the write now; SQLite makes it wait for us.
        written.wait(timeout=1.5)
        after = delivered(campaign)
    callback.join(timeout=30)

    assert before == after == 0
    assert delivered(campaign) == 1  # the write itself was not lost
