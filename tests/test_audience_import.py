import pytest

from campaigns import services
from campaigns.audience_csv import AudienceFileError, audience_csv_parse
from campaigns.models import AudienceImport, AudienceMember, Contact, OptOutSource

from .factories import make_audience, make_contact


def parse(text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return audience_csv_parse(data, default_region="GB")


def test_bom_and_semicolons_are_read_like_plain_csv():
    parsed = parse("\ufeffphone;name;city\n07911 123456;Ana;Porto\n".encode())
    assert [(r.phone, r.name, r.attributes) for r in parsed.rows] == [
        ("+447911123456", "Ana", {"city": "Porto"})
    ]


def test_00_prefix_spaces_dashes_and_excel_notation_are_normalised():
    parsed = parse("phone\n0044 7911 123456\n+44-7911-123457\n4.47911123458E+11\n")
    assert [r.phone for r in parsed.rows] == [
        "+447911123456",
        "+447911123457",
        "+447911123458",
    ]
    assert parsed.rejected == []


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("3.8E+11,Ana", "shortened by Excel"),
        (",Ana", "empty"),
        ("hello,Ana", "not part of a phone number"),
        ("12345,Ana", "not a valid phone number"),
        ("07911123456,Ana,extra", "3 values but the header has 2 columns"),
    ],
)
def test_each_bad_row_gets_its_own_line_and_reason(row, reason):
    parsed = parse(f"phone,name\n07911 000001,Ok\n{row}\n")
    assert len(parsed.rows) == 1
    [rejected] = parsed.rejected
    assert rejected.line == 3
    assert reason in rejected.reason


def test_duplicates_in_the_file_are_listed_and_kept_once():
    parsed = parse("phone\n07911123456\n+447911123456\n07911123457\n")
    assert [r.phone for r in parsed.rows] == ["+447911123456", "+447911123457"]
    assert parsed.duplicates == [(3, 2, "+447911123456")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"name,city\nAna,Porto\n", "needs a column named \u201cphone\u201d"),
        ("phone\n07911123456\n".encode("utf-16"), "not UTF-8"),
        (b"phone,phone\n1,2\n", "more than one phone column"),
    ],
)
def test_unreadable_files_are_refused_as_a_whole(content, message):
    with pytest.raises(AudienceFileError, match=message):
        parse(content)


@pytest.fixture
def audience(db):
    return make_audience("Loyal customers")


CSV = b"phone,first_name,city\n07911 123456,Ana,Porto\n07911123457,Ben,Leeds\nbad,X,Y\n"


def test_check_writes_nothing_but_the_pending_import(audience):
    audience_import, parsed = services.audience_import_check(
        audience=audience, file_name="list.csv", content=CSV
    )
    assert (audience_import.rows_valid, audience_import.rows_rejected) == (2, 1)
    assert audience_import.status == AudienceImport.Status.CHECKED
    assert Contact.objects.count() == 0
    assert len(parsed.rejected) == 1


def test_confirm_imports_valid_rows_and_reimport_adds_nothing(audience):
    first, _ = services.audience_import_check(
        audience=audience, file_name="list.csv", content=CSV
    )
    done = services.audience_import_confirm(audience_import=first)
    assert (done.contacts_created, done.members_added) == (2, 2)
    ana = Contact.objects.get(phone="+447911123456")
    assert ana.name == "Ana"
    assert ana.attributes == {"first_name": "Ana", "city": "Porto"}

    again, _ = services.audience_import_check(
        audience=audience, file_name="list.csv", content=CSV
    )
    done_again = services.audience_import_confirm(audience_import=again)
    assert (done_again.contacts_created, done_again.members_added) == (0, 0)
    assert Contact.objects.count() == 2
    assert AudienceMember.objects.filter(audience=audience).count() == 2


def test_confirm_twice_is_refused(audience):
    audience_import, _ = services.audience_import_check(
        audience=audience, file_name="list.csv", content=CSV
    )
    services.audience_import_confirm(audience_import=audience_import)
    with pytest.raises(services.DomainError, match="already imported"):
        services.audience_import_confirm(audience_import=audience_import)


def test_import_keeps_an_existing_opt_out(audience):
    make_contact(
        "+447911123456",
        opted_out_at="2026-01-01T00:00:00Z",
        opt_out_source=OptOutSource.REPLY,
    )
    audience_import, _ = services.audience_import_check(
        audience=audience, file_name="list.csv", content=CSV
    )
    services.audience_import_confirm(audience_import=audience_import)
    ana = Contact.objects.get(phone="+447911123456")
    assert ana.is_opted_out and ana.opt_out_source == OptOutSource.REPLY


def test_a_failure_while_importing_leaves_nothing_half_imported(audience, monkeypatch):
    audience_import, _ = services.audience_import_check(
        audience=audience, file_name="list.csv", content=CSV
    )

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # Contacts are written first; failing at the membership step must undo them.
    monkeypatch.setattr(AudienceMember.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        services.audience_import_confirm(audience_import=audience_import)
    assert Contact.objects.count() == 0
    audience_import.refresh_from_db()
    assert audience_import.status == AudienceImport.Status.CHECKED


def test_discard_forgets_the_file(audience):
    audience_import, _ = services.audience_import_check(
        audience=audience, file_name="list.csv", content=CSV
    )
    services.audience_import_discard(audience_import=audience_import)
    audience_import.refresh_from_db()
    assert audience_import.status == AudienceImport.Status.DISCARDED
    assert bytes(audience_import.content) == b""
    with pytest.raises(services.DomainError):
        services.audience_import_confirm(audience_import=audience_import)
