"""CSV cells that a spreadsheet will show as text, never run as a formula."""

import csv
import io
import re
from collections.abc import Iterable, Iterator

# A cell starting with one of these is a formula to Excel, LibreOffice and
# Google Sheets (OWASP "CSV injection"); tab and CR also start one in some.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# A plain number such as an E.164 phone or a negative amount starts with + or -
# but can only ever be a constant, so it is left as it is.
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def csv_safe_cell(value) -> str:
    """Return `value` as text, prefixed with a quote if it would start a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_stream(
    header: list[str], rows: Iterable[Iterable], *, rows_per_chunk: int = 2000
) -> Iterator[str]:
    """CSV text in chunks of rows: memory stays flat however many rows there
    are, and the server writes a few large pieces rather than many tiny ones."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # the BOM makes Excel read UTF-8
    writer.writerow(header)
    pending = 0
    for row in rows:
        writer.writerow([csv_safe_cell(cell) for cell in row])
        pending += 1
        if pending == rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()
