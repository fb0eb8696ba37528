"""An import's set-based statements give what the ORM and the import's rules
in Python give: the staged rows, the contacts changed, created and joined."""

import datetime as dt

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from campaigns.audience_csv import ParsedRow
from campaigns.db.audience_imports import (
    import_changes,
    import_changes_count,
    import_contacts_insert,
    import_contacts_update,
    import_members_insert,
    import_progress_report,
    import_rows_stage,
    import_staged_id_ranges,
)
from campaigns.models import AudienceImport, AudienceImportRow, AudienceMember, Contact

from ..factories import make_audience, make_contact

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)
ROWS = [
    ParsedRow(2, "+447911000001", "Ana", {"city": "Porto"}),  # unchanged
    ParsedRow(3, "+447911000002", "", {"city": "Leeds"}),  # a field changes
    ParsedRow(4, "+447911000003", "Ben", {}),  # the name changes
    ParsedRow(5, "+447911000004", "", {"tier": "gold"}),  # a field is added
    ParsedRow(6, "+447911000005", "Cy", {"city": "Faro"}),  # new
]
KNOWN = {
    "+447911000001": ("Ana", {"city": "Porto", "vip": "y"}),
    "+447911000002": ("Dee", {"city": "Porto"}),
    "+447911000003": ("Eve", {"city": "Porto"}),
    "+447911000004": ("Fay", {"city": "Porto"}),
}


def merged(name, fields, row):
    """The import's rule: the file's name unless blank, its fields over the
    contact's."""
    return (row.name or name, {**fields, **row.attributes})


@pytest.fixture
def staged():
    for phone, (name, fields) in KNOWN.items():
        make_contact(phone, name=name, attributes=fields)
    audience_import = AudienceImport.objects.create(
        audience=make_audience(), file_name="f.csv", content=b"", checksum=""
    )
    import_rows_stage(import_id=audience_import.pk, rows=ROWS)
    return audience_import


def test_staging_keeps_a_numbers_first_line_and_says_which_lines_it_kept(staged):
    again = [
        ParsedRow(7, "+447911000001", "Other", {}),
        ParsedRow(8, "+447911000009", "", {}),
    ]
    assert import_rows_stage(import_id=staged.pk, rows=again) == {8}
    rows = AudienceImportRow.objects.filter(audience_import=staged).order_by("line")
    assert [(r.line, r.phone, r.name, r.attributes) for r in rows] == [
        *((r.line, r.phone, r.name, r.attributes) for r in ROWS),
        (8, "+447911000009", "", {}),
    ]


def test_the_changes_are_those_the_rule_gives(staged):
    expected = {
        row.phone
        for row in ROWS
        if row.phone in KNOWN and merged(*KNOWN[row.phone], row) != KNOWN[row.phone]
    }
    assert expected == {"+447911000002", "+447911000003", "+447911000004"}
    assert import_changes_count(import_id=staged.pk) == len(expected)
    ids = dict(Contact.objects.values_list("id", "phone"))
    changes = {ids[c[0]]: c[1:] for c in import_changes(import_id=staged.pk)}
    assert set(changes) == expected
    assert changes["+447911000002"] == ("Dee", {"city": "Porto"}, "", {"city": "Leeds"})


def test_the_update_writes_what_the_rule_gives_to_changed_contacts_only(staged):
    before = {c.phone: c for c in Contact.objects.all()}
    assert import_contacts_update(import_id=staged.pk, now=NOW) == 3
    after = {c.phone: c for c in Contact.objects.all()}
    for row in ROWS[:4]:
        name, fields = KNOWN[row.phone]
        assert (after[row.phone].name, after[row.phone].attributes) == merged(
            name, fields, row
        )
    assert after["+447911000001"].updated_at == before["+447911000001"].updated_at
    assert after["+447911000002"].updated_at == NOW


def test_insert_creates_the_new_numbers_as_the_orm_would(staged):
    assert import_contacts_insert(import_id=staged.pk, now=NOW) == 1
    cy = Contact.objects.get(phone="+447911000005")
    orm = Contact.objects.create(
        phone="+447911000099", name="Cy", attributes={"city": "Faro"}
    )
    assert (cy.name, cy.attributes, cy.opted_out_at, cy.opt_out_source) == (
        orm.name,
        orm.attributes,
        orm.opted_out_at,
        orm.opt_out_source,
    )
    assert cy.created_at == cy.updated_at == NOW
    assert Contact.objects.get(phone="+447911000002").name == "Dee"  # not updated


def test_members_are_every_staged_number_once(staged):
    import_contacts_insert(import_id=staged.pk, now=NOW)
    audience_id = staged.audience_id
    assert (
        import_members_insert(import_id=staged.pk, audience_id=audience_id, now=NOW)
        == 5
    )
    assert (
        import_members_insert(import_id=staged.pk, audience_id=audience_id, now=NOW)
        == 0
    )
    members = AudienceMember.objects.filter(audience_id=audience_id)
    assert set(members.values_list("contact__phone", flat=True)) == {
        r.phone for r in ROWS
    }
    assert set(members.values_list("added_at", flat=True)) == {NOW}


@pytest.mark.django_db(transaction=True)
def test_progress_is_readable_while_the_import_is_not_committed():
    """On PostgreSQL the page reads an import's progress though its writes are
    one transaction still open; SQLite, with one writer, learns it at commit
    and the report must not wait for the lock the import holds."""
    audience_import = AudienceImport.objects.create(
        audience=make_audience(), file_name="f.csv", content=b"", checksum=""
    )
    with transaction.atomic():
        # The import's own writes (it never writes its row before the end).
        make_contact("+447911000077")
        import_progress_report(import_id=audience_import.pk, rows_done=7, now=NOW)
        seen = _read_elsewhere(audience_import.pk)
    if connection.vendor == "postgresql":
        assert seen == (7, 0)  # the progress, not the uncommitted contact
    else:
        assert seen == (0, 0)
    assert Contact.objects.filter(phone="+447911000077").exists()


def _read_elsewhere(import_id: int) -> tuple[int, int]:
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT rows_done, (SELECT COUNT(*) FROM campaigns_contact"
                " WHERE phone = '+447911000077') FROM campaigns_audienceimport"
                " WHERE id = %s",
                [import_id],
            )
            return cursor.fetchone()
    finally:
        other.close()


def test_staged_ids_come_in_ranges_of_at_most_the_size_asked(staged):
    ranges = import_staged_id_ranges(import_id=staged.pk, size=2)
    ids = sorted(staged.staged_rows.values_list("id", flat=True))
    assert [i for low, high in ranges for i in ids if low <= i <= high] == ids
    assert all(high - low < 2 for low, high in ranges)
