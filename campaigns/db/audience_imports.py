"""An audience import's set-based steps: staging a checked file's rows, and
writing them into contacts and the audience in a few statements, whatever the
number of rows.

A staged row changes a known contact when it brings a name other than the
contact's, or a field the contact lacks or holds another value in: the name a
file leaves blank and the fields it does not have stay as they are.
"""

import json
from collections.abc import Iterator, Sequence
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Max, Min

from ..models import AudienceImport, AudienceImportRow, AudienceMember, Contact

# A range of staged row ids, both ends included.
StagedIds = tuple[int, int]
ALL_STAGED: StagedIds = (0, 2**62)

IMPORT = AudienceImport._meta.db_table
CONTACT = Contact._meta.db_table
MEMBER = AudienceMember._meta.db_table
STAGED = AudienceImportRow._meta.db_table
# The session's table rows pass through on their way to STAGED (PostgreSQL).
INCOMING = "audience_import_rows_incoming"


def _merged_attributes() -> str:
    """The contact's fields with the staged row's over them."""
    if connection.vendor == "postgresql":
        return "c.attributes || s.attributes"
    return "json_patch(c.attributes, s.attributes)"


def _changes_contact() -> str:
    """True where staged row `s` would change contact `c`."""
    if connection.vendor == "postgresql":
        attributes_differ = "NOT (c.attributes @> s.attributes)"
    else:
        attributes_differ = (
            "json_patch(c.attributes, s.attributes) <> json(c.attributes)"
        )
    return f"((s.name <> '' AND s.name <> c.name) OR {attributes_differ})"


def import_rows_stage(*, import_id: int, rows: Sequence) -> set[int]:
    """Stage `rows` (line, phone, name, attributes) of an import; a number
    already staged (or earlier in `rows`) is left out. Returns the lines
    staged."""
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        return _stage_through_copy(import_id, rows)
    insert = f"INSERT INTO {STAGED} (audience_import_id, line, phone, name, attributes)"
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    params = []
    for row in rows:
        params += [import_id, row.line, row.phone, row.name, json.dumps(row.attributes)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"{insert} VALUES {values}"
            " ON CONFLICT (audience_import_id, phone) DO NOTHING RETURNING line",
            params,
        )
        return {line for (line,) in cursor.fetchall()}


def _stage_through_copy(import_id: int, rows: Sequence) -> set[int]:
    """On PostgreSQL the rows travel by COPY into a table of this session,
    then into the staged rows in one INSERT … SELECT (arrays of text cost
    the driver more than the database's whole insert)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {INCOMING}"
            " (line integer, phone text, name text, attributes jsonb)"
        )
        with cursor.cursor.copy(
            f"COPY {INCOMING} (line, phone, name, attributes) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(
                    (row.line, row.phone, row.name, json.dumps(row.attributes))
                )
        cursor.execute(
            f"INSERT INTO {STAGED} (audience_import_id, line, phone, name, attributes)"  # noqa: S608 - names from model metadata
            f" SELECT %s, line, phone, name, attributes FROM {INCOMING} ORDER BY line"
            " ON CONFLICT (audience_import_id, phone) DO NOTHING RETURNING line",
            [import_id],
        )
        staged = {line for (line,) in cursor.fetchall()}
        cursor.execute(f"DELETE FROM {INCOMING}")  # noqa: S608 - a constant name
        return staged


def import_changes_count(*, import_id: int) -> int:
    """How many known contacts the import's staged rows would change."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {STAGED} s JOIN {CONTACT} c ON c.phone = s.phone"  # noqa: S608 - names from model metadata
            f" WHERE s.audience_import_id = %s AND {_changes_contact()}",
            [import_id],
        )
        return cursor.fetchone()[0]


def import_changes(*, import_id: int, batch: int = 5000) -> Iterator[tuple]:
    """Each known contact the staged rows would change, as (contact id, its
    name, its fields, the file's name, the file's fields)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.name, c.attributes, s.name, s.attributes"  # noqa: S608 - names from model metadata
            f" FROM {STAGED} s JOIN {CONTACT} c ON c.phone = s.phone"
            f" WHERE s.audience_import_id = %s AND {_changes_contact()}",
            [import_id],
        )
        while chunk := cursor.fetchmany(batch):
            for contact_id, name, fields, new_name, new_fields in chunk:
                yield contact_id, name, _loaded(fields), new_name, _loaded(new_fields)


def _loaded(value) -> dict:
    # PostgreSQL's driver reads jsonb as Python values; SQLite gives text.
    return json.loads(value) if isinstance(value, str) else value


def import_contacts_update(
    *, import_id: int, now: datetime, ids: StagedIds = ALL_STAGED
) -> int:
    """Give known contacts the staged rows' name (unless blank) and fields;
    returns how many changed."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CONTACT} AS c SET"  # noqa: S608 - names from model metadata
            " name = CASE WHEN s.name <> '' THEN s.name ELSE c.name END,"
            f" attributes = {_merged_attributes()}, updated_at = %s"
            f" FROM {STAGED} s WHERE s.audience_import_id = %s AND s.phone = c.phone"
            f" AND s.id BETWEEN %s AND %s AND {_changes_contact()}",
            [now, import_id, *ids],
        )
        return cursor.rowcount


def import_contacts_insert(
    *, import_id: int, now: datetime, ids: StagedIds = ALL_STAGED
) -> int:
    """Create a contact for each staged number not known yet; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CONTACT}"  # noqa: S608 - names from model metadata
            " (phone, name, attributes, opt_out_source, created_at, updated_at)"
            " SELECT s.phone, s.name, s.attributes, '', %s, %s"
            f" FROM {STAGED} s WHERE s.audience_import_id = %s"
            " AND s.id BETWEEN %s AND %s ORDER BY s.id"
            " ON CONFLICT (phone) DO NOTHING",
            [now, now, import_id, *ids],
        )
        return cursor.rowcount


def import_members_insert(
    *, import_id: int, audience_id: int, now: datetime, ids: StagedIds = ALL_STAGED
) -> int:
    """Put every staged number in the audience; returns how many joined."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MEMBER} (audience_id, contact_id, added_at)"  # noqa: S608 - names from model metadata
            " SELECT %s, c.id, %s"
            f" FROM {STAGED} s JOIN {CONTACT} c ON c.phone = s.phone"
            " WHERE s.audience_import_id = %s AND s.id BETWEEN %s AND %s ORDER BY s.id"
            " ON CONFLICT (audience_id, contact_id) DO NOTHING",
            [audience_id, now, import_id, *ids],
        )
        return cursor.rowcount


def import_staged_id_ranges(*, import_id: int, size: int) -> list[StagedIds]:
    """The import's staged rows as ranges of at most `size` ids, in file
    order: the pieces an import writes one after the other."""
    bounds = AudienceImportRow.objects.filter(audience_import_id=import_id).aggregate(
        first=Min("id"), last=Max("id")
    )
    if bounds["first"] is None:
        return []
    return [
        (start, min(start + size - 1, bounds["last"]))
        for start in range(bounds["first"], bounds["last"] + 1, size)
    ]


def import_progress_report(*, import_id: int, rows_done: int, now: datetime) -> None:
    """Write an import's progress where its page can read it at once, though
    the import itself is one transaction not committed yet: on PostgreSQL
    through a connection of its own, committed at once. SQLite has one writer
    at a time, so there the page learns the progress when the import commits.
    """
    if connection.vendor != "postgresql":
        return
    reporter = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with reporter.cursor() as cursor:
            cursor.execute(
                f"UPDATE {IMPORT} SET rows_done = %s, progress_at = %s"  # noqa: S608 - names from model metadata
                " WHERE id = %s",
                [rows_done, now, import_id],
            )
    finally:
        reporter.close()
