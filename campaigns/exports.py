"""CSV cells that a spreadsheet will show as text, never run as a formula."""

import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator

from django.db.models import CharField, Func

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
