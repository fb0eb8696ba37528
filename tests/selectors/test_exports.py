"""The recipients export and formula-safe CSV cells, below the admin page
(the page's own tests are in tests/test_reports.py)."""

import csv
import datetime as dt
import io

import pytest

from campaigns import selectors
from campaigns.selectors.exports import csv_safe_cell, csv_stream

from ..report_helpers import at

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        ("", ""),
        (42, "42"),
        ("Ann", "Ann"),
        ("+447911123456", "+447911123456"),  # a phone: a plain number
        ("-12.5", "-12.5"),
        ("=1+2", "'=1+2"),
        ("-2+3", "'-2+3"),
        ("+44 20 7946", "'+44 20 7946"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
    ],
)
def test_a_cell_that_would_start_a_formula_gets_a_quote(value, cell):
    assert csv_safe_cell(value) == cell


def test_csv_stream_writes_a_bom_the_header_and_rows_in_chunks():
    rows = [[f"=row {i}", f"=kept {i}"] for i in range(5)]
    pieces = list(
        csv_stream(["name", "=note"], rows, text_columns=[0], rows_per_chunk=2)
    )
    assert len(pieces) == 3  # two, two, and the last row
    assert pieces[0].startswith("\ufeff")
    table = list(csv.reader(io.StringIO("".join(pieces).removeprefix("\ufeff"))))
    # The header is always made safe; rows only in the text columns.
    assert table[0] == ["name", "'=note"]
    assert table[1:] == [[f"'=row {i}", f"=kept {i}"] for i in range(5)]


def test_the_text_columns_are_the_ones_holding_outside_text():
    headers = [header for header, _ in selectors.RECIPIENT_EXPORT_COLUMNS]
    text = {headers[index] for index in selectors.recipient_export_text_columns()}
    assert {"phone", "name", "failure reason", "viber description"} <= text
    assert not text & {"outcome", "status code", "sent at", "sms updated"}


def test_the_export_lists_each_recipient_once_in_id_order(finished):
    campaign, rows = finished
    pieces = selectors.campaign_recipients_csv(campaign=campaign)
    body = b"".join(
        piece if isinstance(piece, bytes) else piece.encode() for piece in pieces
    ).decode()
    table = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert table[0] == [header for header, _ in selectors.RECIPIENT_EXPORT_COLUMNS]
    ordered = sorted(rows.values(), key=lambda recipient: recipient.pk)
    assert [row[0] for row in table[1:]] == [r.phone for r in ordered]
    by_phone = {row[0]: row for row in table[1:]}
    assert by_phone[rows["read"].phone][2] == "Delivered on Viber"
    assert by_phone[rows["queued"].phone][15] == ""  # never sent


def test_the_python_writer_gives_rows_and_the_header(finished):
    campaign, rows = finished
    header, exported = selectors.campaign_recipients_export(
        campaign=campaign, outcome="sms_delivered", chunk_size=1
    )
    assert header[0] == "phone"
    exported = list(exported)
    assert [row[0] for row in exported] == [
        rows["sms_3055"].phone,
        rows["sms_3056"].phone,
    ]
    sms_updated = header.index("sms updated")
    # ISO 8601 text (SQLite leaves out zero microseconds, PostgreSQL does not).
    assert dt.datetime.fromisoformat(exported[0][sms_updated]) == at(100)


def test_the_export_adds_the_contacts_own_fields_formula_safe(finished):
    campaign, rows = finished
    contact = rows["read"].contact
    contact.attributes = {"city": "=cmd|' /C calc'!A0", "first_name": "Ana"}
    contact.save()
    other = rows["queued"].contact
    other.attributes = {"first_name": "Ben", "visits": 4}
    other.save()

    pieces = selectors.campaign_recipients_csv(campaign=campaign)
    body = "".join(p if isinstance(p, str) else p.decode() for p in pieces)
    table = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))

    base = len(selectors.RECIPIENT_EXPORT_COLUMNS)
    assert table[0][base:] == ["city", "first_name", "visits"]
    by_phone = {row[0]: row[base:] for row in table[1:]}
    assert by_phone[contact.phone] == ["'=cmd|' /C calc'!A0", "Ana", ""]
    assert by_phone[other.phone] == ["", "Ben", "4"]
