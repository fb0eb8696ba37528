"""Reads an audience CSV into valid rows and row-by-row errors, writing nothing.

Accepts what spreadsheets really export: UTF-8 with or without a BOM, comma or
semicolon separators, numbers with spaces, dashes, `+` or `00`, and Excel's
scientific notation when no digit was lost. Invisible NUL characters (which
broken exports leave and PostgreSQL cannot store) are removed from every cell,
and the lines they were on are listed so the check page can say so.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from .phones import PhoneNumberError, phone_normalize

PHONE_HEADERS = {"phone", "phone_number", "phonenumber", "mobile", "msisdn", "number"}
NAME_HEADERS = {"name", "full_name"}
MAX_ATTRIBUTE_LENGTH = 500


class AudienceFileError(ValueError):
    """The file as a whole cannot be read; the message says why."""


# Tuples rather than dataclasses: a large import makes millions of them.
class ParsedRow(NamedTuple):
    line: int
    phone: str
    name: str
    attributes: dict[str, str]


class RejectedRow(NamedTuple):
    line: int
    values: dict[str, str]
    reason: str


@dataclass
class ParsedAudienceCsv:
    headers: list[str]
    rows: list[ParsedRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    # (line, first line with the same number) for numbers seen twice in the file.
    duplicates: list[tuple[int, int, str]] = field(default_factory=list)
    # Lines from which NUL characters were removed.
    nul_lines: list[int] = field(default_factory=list)

    @property
    def rows_total(self) -> int:
        return len(self.rows) + len(self.rejected) + len(self.duplicates)


def _header_key(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def _not_utf8() -> AudienceFileError:
    return AudienceFileError(
        "The file is not UTF-8 text. In Excel choose “CSV UTF-8” when saving."
    )


def _decode(content: bytes) -> str:
    """`content`, the start of a file, as text (a character cut at its end
    is left out)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(content) - 3:
            return content[: exc.start].decode("utf-8-sig")
        raise _not_utf8() from exc


def _without_nul(values: list[str]) -> list[str]:
    return [value.replace("\x00", "") for value in values]


def _delimiter(first_line: str) -> str:
    # Spreadsheets in many European locales save with semicolons.
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _header_row(reader) -> list[str]:
    """The first row with any text in it."""
    try:
        raw_headers = next(reader)
        while not any(h.strip() for h in raw_headers):
            raw_headers = next(reader)
    except StopIteration as exc:
        raise AudienceFileError("The file has no header row.") from exc
    except csv.Error as exc:
        raise AudienceFileError(f"The file is not valid CSV: {exc}.") from exc
    return raw_headers


def _phone_column(raw_headers: list[str], keys: list[str]) -> int:
    """The index of the one phone column; the file is refused without one."""
    phone_columns = [i for i, key in enumerate(keys) if key in PHONE_HEADERS]
    if not phone_columns:
        raise AudienceFileError(
            "The file needs a column named “phone” (found: "
            + ", ".join(f"“{h.strip()}”" for h in raw_headers if h.strip())
            + ")."
        )
    if len(phone_columns) > 1:
        raise AudienceFileError("The file has more than one phone column.")
    duplicated = {k for k in keys if k and keys.count(k) > 1}
    if duplicated:
        raise AudienceFileError(
            "Column names repeat: " + ", ".join(sorted(duplicated)) + "."
        )
    return phone_columns[0]


def _name_and_attributes(
    values: list[str], keys: list[str], phone_index: int
) -> tuple[str, dict[str, str]]:
    name = ""
    attributes: dict[str, str] = {}
    for i, key in enumerate(keys):
        if i == phone_index or not key or i >= len(values):
            continue
        value = values[i].strip()[:MAX_ATTRIBUTE_LENGTH]
        if key in NAME_HEADERS:
            name = value
        elif value:
            attributes[key] = value
    if not name and ("first_name" in attributes or "last_name" in attributes):
        name = " ".join(
            p for p in (attributes.get("first_name"), attributes.get("last_name")) if p
        )
    return name[:200], attributes


@dataclass(frozen=True)
class RowParser:
    """Turns one data row's cells into a ParsedRow or a RejectedRow (None for
    a blank row). Plain data, so that another process can parse rows too."""

    raw_headers: tuple[str, ...]
    keys: tuple[str, ...]
    phone_index: int
    default_region: str

    def parse(self, line: int, values: list[str]) -> ParsedRow | RejectedRow | None:
        if not any(v.strip() for v in values):
            return None
        keys = self.keys
        if len(values) > len(keys):
            return RejectedRow(
                line,
                self._as_read(values),
                f"The row has {len(values)} values but the header has "
                f"{len(keys)} columns.",
            )
        raw_phone = values[self.phone_index] if self.phone_index < len(values) else ""
        try:
            phone = phone_normalize(raw_phone, default_region=self.default_region)
        except PhoneNumberError as exc:
            return RejectedRow(line, self._as_read(values), str(exc))
        name, attributes = _name_and_attributes(values, keys, self.phone_index)
        return ParsedRow(line, phone, name, attributes)

    def parse_many(
        self, numbered: list[tuple[int, list[str]]]
    ) -> list[ParsedRow | RejectedRow]:
        parsed = (self.parse(line, values) for line, values in numbered)
        return [row for row in parsed if row is not None]

    def _as_read(self, values: list[str]) -> dict[str, str]:
        """A rejected row's cells under their column names, as the file had them."""
        return {
            self.raw_headers[i].strip(): v
            for i, v in enumerate(values[: len(self.keys)])
        }


class AudienceCsvReader:
    """Reads a file's rows one at a time, so a file of a million rows never
    sits in memory as rows: each is a ParsedRow or a RejectedRow, in file
    order. Numbers seen twice are the caller's to notice (a ParsedRow each).

    Raises AudienceFileError on creation when the header cannot be read, and
    while reading when the file turns out not to be UTF-8 or CSV.
    """

    # The lines with NUL characters kept by number (all are counted).
    NUL_LINES_KEPT = 20

    def __init__(self, content: bytes, *, default_region: str):
        self.nul_lines: list[int] = []
        self.nul_line_count = 0
        head = _decode(content[:65536])
        if not head.strip():
            raise AudienceFileError("The file is empty.")
        self._text = io.TextIOWrapper(
            io.BytesIO(content), encoding="utf-8-sig", newline=""
        )
        first_line = head.lstrip("\r\n").splitlines()[0]
        self._reader = csv.reader(self._text, delimiter=_delimiter(first_line))
        try:
            raw_headers = _without_nul(_header_row(self._reader))
        except UnicodeDecodeError as exc:
            raise _not_utf8() from exc
        keys = [_header_key(h) for h in raw_headers]
        self.parser = RowParser(
            tuple(raw_headers),
            tuple(keys),
            _phone_column(raw_headers, keys),
            default_region,
        )
        self.headers = [h.strip() for h in raw_headers]

    def __iter__(self) -> Iterator[ParsedRow | RejectedRow]:
        for line, values in self.numbered_rows():
            row = self.parser.parse(line, values)
            if row is not None:
                yield row

    def numbered_rows(self) -> Iterator[tuple[int, list[str]]]:
        """Each data row's line number and cells, NUL characters removed (and
        their lines noted), before `parser` reads them."""
        reader = self._reader
        try:
            for values in reader:
                if any("\x00" in v for v in values):
                    # A NUL is never meant: it is invisible in a spreadsheet
                    # and no contact field can hold it, so it goes and the
                    # rest of the cell stays.
                    values = _without_nul(values)
                    self.nul_line_count += 1
                    if len(self.nul_lines) < self.NUL_LINES_KEPT:
                        self.nul_lines.append(reader.line_num)
                yield reader.line_num, values
        except UnicodeDecodeError as exc:
            raise _not_utf8() from exc
        except csv.Error as exc:
            raise AudienceFileError(
                f"The file is not valid CSV near line {reader.line_num}: {exc}."
            ) from exc


def audience_csv_parse(content: bytes, *, default_region: str) -> ParsedAudienceCsv:
    """Parse all of `content` in memory (a small file: a test, a preview);
    raise AudienceFileError if the file cannot be read at all."""
    reader = AudienceCsvReader(content, default_region=default_region)
    parsed = ParsedAudienceCsv(headers=reader.headers)
    first_line_of_phone: dict[str, int] = {}
    for row in reader:
        if isinstance(row, RejectedRow):
            parsed.rejected.append(row)
        elif row.phone in first_line_of_phone:
            parsed.duplicates.append(
                (row.line, first_line_of_phone[row.phone], row.phone)
            )
        else:
            first_line_of_phone[row.phone] = row.line
            parsed.rows.append(row)
    parsed.nul_lines = reader.nul_lines
    return parsed
