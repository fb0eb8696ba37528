"""The COPY export (PostgreSQL writes the CSV) gives the same rows as the
ORM query written out by Python."""

import csv
import io

import pytest
from django.db import connection

from campaigns import selectors
from campaigns.selectors.exports import csv_stream

from ..report_helpers import finished_campaign

pytestmark = pytest.mark.django_db


def test_the_export_postgresql_writes_is_the_same_as_the_python_one():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite exports through Python (CI runs both)")
    campaign, _ = finished_campaign()
    awkward = ["=1+2", "-2+3", "+44 20 7946", "O'Brien, \"Ann\"", "two\nlines",
               "Zoë 🎉", "-12.5", "@x", "\tTab", "\rCR", ""]  # fmt: skip
    for recipient, name in zip(
        campaign.recipients.filter(is_test=False).select_related("contact"),
        awkward,
        strict=False,
    ):
        recipient.contact.name = name
        # The contact's own fields, awkward too: a formula, a number, a key
        # named like a message column, one missing.
        recipient.contact.attributes = (
            {"city": name, "tier": 3, "outcome": "=HYPERLINK()"} if name else {}
        )
        recipient.contact.save()
    header, rows = selectors.campaign_recipients_export(campaign=campaign)
    assert header[-3:] == ["city", "contact outcome", "tier"]
    text_columns = selectors.recipient_export_text_columns(field_count=3)
    by_python = "".join(csv_stream(header, rows, text_columns=text_columns))
    by_database = b"".join(
        selectors.campaign_recipients_export_copy(campaign=campaign)
    ).decode()

    table = list(csv.reader(io.StringIO(by_database.removeprefix("\ufeff"))))
    assert table == list(csv.reader(io.StringIO(by_python.removeprefix("\ufeff"))))
    assert len(table) == 11  # the header and the ten recipients
    names = {row[1] for row in table[1:]}
    assert {"'=1+2", "'-2+3", "'@x", "'\tTab", "'\rCR", "-12.5", "Zoë 🎉"} <= names


def test_the_export_postgresql_writes_filters_by_outcome_and_streams_in_pieces(
    monkeypatch,
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite exports through Python (CI runs both)")
    from campaigns.db import recipients_export

    monkeypatch.setattr(recipients_export, "PIECE_BYTES", 100)
    campaign, rows = finished_campaign()
    pieces = list(
        selectors.campaign_recipients_export_copy(campaign=campaign, outcome="failed")
    )
    assert len(pieces) > 3  # the header, then pieces of about 100 bytes
    table = list(csv.reader(io.StringIO(b"".join(pieces).decode().lstrip("\ufeff"))))
    assert {row[0] for row in table[1:]} == {
        rows["failed_sms"].phone,
        rows["rejected"].phone,
    }
    assert {row[2] for row in table[1:]} == {"Failed"}
