"""The recipients export, and CSV cells a spreadsheet shows as text, never
runs as a formula.

Two writers make the same file: PostgreSQL itself (COPY, several times
faster; campaigns.db.recipients_export) and Python on other databases
(`csv_stream`). `campaign_recipients_csv` chooses.
"""

import csv
import io
import json
import re
from collections.abc import Collection, Iterable, Iterator

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    F,
    FilteredRelation,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform

from ..db.attribute_keys import audience_attribute_keys
from ..db.functions import IsoTimestamp
from ..db.recipients_export import recipients_export_copy
from ..models import Campaign, Channel, Recipient

# --- Formula-safe cells -------------------------------------------------------

# A cell starting with one of these is a formula to Excel, LibreOffice and
# Google Sheets (OWASP "CSV injection"); tab and CR also start one in some.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST_CHARACTERS = frozenset("".join(FORMULA_PREFIXES))
# A plain number such as an E.164 phone or a negative amount starts with + or -
# but can only ever be a constant, so it is left as it is.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def csv_safe_cell(value) -> str:
    """Return `value` as text, prefixed with a quote if it would start a formula."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    # Checked on every cell of large exports: the common case returns first.
    if not text or text[0] not in FORMULA_FIRST_CHARACTERS:
        return text
    if PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text


def _sql_character(character: str) -> str:
    return f"'{character}'" if character.isprintable() else f"chr({ord(character)})"


class CsvSafeText(Func):
    """`csv_safe_cell` in SQL (PostgreSQL), for exports the database writes;
    built from the same prefixes and plain-number pattern."""

    output_field = CharField()
    template = (
        "CASE WHEN left(%(expressions)s, 1) IN ("
        + ", ".join(_sql_character(c) for c in FORMULA_PREFIXES)
        + f") AND %(expressions)s !~ '^{PLAIN_NUMBER.pattern}$'"
        " THEN '''' || %(expressions)s ELSE %(expressions)s::text END"
    )

    def as_sql(self, compiler, connection, **extra):
        # The value appears four times in the template; its parameters (a
        # contact field's key) must then be passed four times too.
        sql, params = super().as_sql(compiler, connection, **extra)
        return sql, tuple(params) * self.template.count("%(expressions)s")


def csv_stream(
    header: list[str],
    rows: Iterable[Iterable],
    *,
    text_columns: Collection[int] | None = None,
    rows_per_chunk: int = 2000,
) -> Iterator[str]:
    """CSV text in chunks of rows: memory stays flat however many rows there
    are, and the server writes a few large pieces rather than many tiny ones.

    Cells are made formula-safe; `text_columns` limits that to the columns
    that can hold free text (the rest being numbers, times and our own
    labels), which keeps very large exports fast.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # the BOM makes Excel read UTF-8
    writer.writerow([csv_safe_cell(cell) for cell in header])
    write, safe = writer.writerow, csv_safe_cell
    checked = range(len(header)) if text_columns is None else sorted(text_columns)
    pending = 0
    for row in rows:
        row = list(row)
        for index in checked:
            row[index] = safe(row[index])
        write(row)
        pending += 1
        if pending == rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


# --- The recipients export ----------------------------------------------------

# Header → field, in the order of the columns of the recipients export.
RECIPIENT_EXPORT_COLUMNS = [
    ("phone", "phone"),
    ("name", "contact__name"),
    ("outcome", "outcome"),
    ("final channel", "last_channel"),
    ("send status", "send_status"),
    ("suppression reason", "suppression_reason"),
    ("failure reason", "failure_reason"),
    ("status code", "status_code"),
    ("status description", "status_description"),
    ("viber code", "viber__status_code"),
    ("viber description", "viber__status_description"),
    ("viber updated", "viber__updated_on"),
    ("sms code", "sms__status_code"),
    ("sms description", "sms__status_description"),
    ("sms updated", "sms__updated_on"),
    ("sent at", "sent_at"),
    ("delivered at", "delivered_at"),
    ("read at", "read_at"),
    ("opted out at", "opted_out_at"),
    ("external id", "external_id"),
    ("reference id", "reference_id"),
]


def _export_time_column(field: str) -> bool:
    return field.endswith(("_at", "updated_on"))


def campaign_export_fields(*, campaign: Campaign) -> list[str]:
    """The contact's own fields the export adds after the message's columns:
    every attribute key of the campaign's audiences' contacts, alphabetically."""
    audience_ids = list(campaign.audiences.values_list("pk", flat=True))
    return sorted(audience_attribute_keys(audience_ids=audience_ids))


def export_field_headers(fields: list[str]) -> list[str]:
    """A header per contact field: its own name, unless a message column has
    that name already."""
    taken = {header for header, _ in RECIPIENT_EXPORT_COLUMNS}
    return [f"contact {field}" if field in taken else field for field in fields]


def recipient_export_text_columns(*, field_count: int = 0) -> list[int]:
    """Export columns that can hold text from outside: contact data (the
    `field_count` contact fields after the message's columns included) and
    Telesign's descriptions (and, to be safe, every id)."""
    numeric_or_ours = {
        "outcome",
        "last_channel",
        "send_status",
        "suppression_reason",
        "status_code",
        "viber__status_code",
        "sms__status_code",
    }
    base = len(RECIPIENT_EXPORT_COLUMNS)
    return [
        index
        for index, (_, field) in enumerate(RECIPIENT_EXPORT_COLUMNS)
        if field not in numeric_or_ours and not _export_time_column(field)
    ] + list(range(base, base + field_count))


def _exported_recipients(*, campaign: Campaign, outcome: str | None) -> QuerySet:
    """The recipients an export lists, with their Viber and SMS attempts
    joined as `viber` and `sms`."""
    recipients = Recipient.objects.filter(campaign=campaign, is_test=False)
    if outcome:
        recipients = recipients.filter(outcome=outcome)
    return recipients.annotate(
        viber=FilteredRelation(
            "attempts", condition=Q(attempts__channel=Channel.VIBER)
        ),
        sms=FilteredRelation("attempts", condition=Q(attempts__channel=Channel.SMS)),
    )


def campaign_recipients_export(
    *,
    campaign: Campaign,
    outcome: str | None = None,
    chunk_size: int = 10000,
    contact_fields: list[str] | None = None,
):
    """(header, rows) of a campaign's recipients, one row per recipient in id
    order, with each channel's code, description and time beside it, then
    the contact's own fields (`contact_fields`, by default every field of
    the campaign's audiences).

    Rows are read with a server-side cursor in chunks, so any size streams.
    """
    if contact_fields is None:
        contact_fields = campaign_export_fields(campaign=campaign)
    fields = [field for _, field in RECIPIENT_EXPORT_COLUMNS]
    # Times leave the database already written out: no datetime objects to
    # build and format per cell, which is most of a large export's cost.
    as_text = {
        field: f"text_{index}"
        for index, field in enumerate(fields)
        if _export_time_column(field)
    }
    queryset = (
        _exported_recipients(campaign=campaign, outcome=outcome)
        .annotate(**{alias: IsoTimestamp(field) for field, alias in as_text.items()})
        .order_by("id")
        .values_list(
            *(as_text.get(field, field) for field in fields), "contact__attributes"
        )
    )
    outcome_index = fields.index("outcome")
    labels = dict(Recipient.Outcome.choices)

    def rows():
        for row in queryset.iterator(chunk_size=chunk_size):
            *row, attributes = row
            row[outcome_index] = labels.get(row[outcome_index], row[outcome_index])
            if not isinstance(attributes, dict):
                attributes = {}
            row.extend(_field_text(attributes.get(key)) for key in contact_fields)
            yield row

    header = [header for header, _ in RECIPIENT_EXPORT_COLUMNS]
    return [*header, *export_field_headers(contact_fields)], rows()


def _field_text(value) -> str | None:
    """A contact field as the database writes it (`->>`): text as it is,
    anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _database_written_columns(contact_fields: list[str]) -> dict:
    """Each export column as the database writes it: outcome labels, times
    as ISO text and formula-safe text, the labels and the contact fields'
    keys passed as parameters."""
    text = set(recipient_export_text_columns())
    labels = Case(
        *[
            When(outcome=value, then=Value(label))
            for value, label in Recipient.Outcome.choices
        ],
        default=F("outcome"),
        output_field=CharField(),
    )
    columns = {}
    for index, (_, field) in enumerate(RECIPIENT_EXPORT_COLUMNS):
        if field == "outcome":
            expression = labels
        elif _export_time_column(field):
            expression = IsoTimestamp(field)
        elif index in text:
            expression = CsvSafeText(field)
        else:
            expression = F(field)
        columns[f"column_{index}"] = expression
    base = len(RECIPIENT_EXPORT_COLUMNS)
    for offset, key in enumerate(contact_fields):
        columns[f"column_{base + offset}"] = CsvSafeText(
            KeyTextTransform(key, "contact__attributes")
        )
    return columns


def campaign_recipients_export_copy(
    *, campaign: Campaign, outcome: str | None = None
) -> Iterator[bytes]:
    """The same export as CSV written by PostgreSQL itself (COPY … TO STDOUT),
    header row included: outcome labels, times and formula-safe cells are made
    in the query, so no row passes through Python. PostgreSQL only."""
    contact_fields = campaign_export_fields(campaign=campaign)
    columns = _database_written_columns(contact_fields)
    rows = (
        _exported_recipients(campaign=campaign, outcome=outcome)
        .annotate(**columns)
        .order_by("id")
        .values_list(*columns)
    )
    header = [name for name, _ in RECIPIENT_EXPORT_COLUMNS]
    header += export_field_headers(contact_fields)
    yield "".join(csv_stream(header, [])).encode()  # BOM and header row
    yield from recipients_export_copy(rows)


def campaign_recipients_csv(
    *, campaign: Campaign, outcome: str | None = None
) -> Iterator[str | bytes]:
    """The recipients export as CSV pieces: written by the database on
    PostgreSQL (several times faster), by Python elsewhere."""
    if connection.vendor == "postgresql":
        return campaign_recipients_export_copy(campaign=campaign, outcome=outcome)
    fields = campaign_export_fields(campaign=campaign)
    header, rows = campaign_recipients_export(
        campaign=campaign, outcome=outcome, contact_fields=fields
    )
    return csv_stream(
        header,
        rows,
        text_columns=recipient_export_text_columns(field_count=len(fields)),
    )
