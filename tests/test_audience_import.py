import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from campaigns import services
from campaigns.audience_csv import (
    AudienceCsvReader,
    AudienceFileError,
    RejectedRow,
    audience_csv_parse,
)
from campaigns.models import (
    AudienceImport,
    AudienceImportRow,
    AudienceMember,
    Contact,
    OptOutSource,
)
from campaigns.services.audience_imports import check, run
from campaigns.services.audience_imports.parsing import rows_parsed_in_batches

from .factories import make_audience, make_contact
from .import_helpers import IMPORT_TASKS, import_checked, import_done, import_tasks_run


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


def test_check_writes_nothing_but_the_import_and_its_staged_rows(audience):
    audience_import = import_checked(audience, CSV)
    assert (audience_import.rows_valid, audience_import.rows_rejected) == (2, 1)
    assert audience_import.status == AudienceImport.Status.CHECKED
    assert Contact.objects.count() == 0
    [rejected] = audience_import.problems.all()
    assert (rejected.line, rejected.values["phone"]) == (4, "bad")


def test_the_upload_queues_the_check_and_the_confirm_queues_the_import(audience):
    audience_import = services.audience_import_upload(
        audience=audience, file_name="list.csv", content=CSV, region="GB"
    )
    assert audience_import.status == AudienceImport.Status.CHECKING
    assert queued_import_tasks() == ["campaigns.tasks.audience_import_check_task"]
    import_tasks_run()
    audience_import.refresh_from_db()
    services.audience_import_confirm(audience_import=audience_import)
    audience_import.refresh_from_db()
    assert audience_import.status == AudienceImport.Status.IMPORTING
    assert queued_import_tasks() == ["campaigns.tasks.audience_import_task"]
    assert Contact.objects.count() == 0  # written by the worker, not the request
    import_tasks_run()
    audience_import.refresh_from_db()
    assert audience_import.status == AudienceImport.Status.IMPORTED
    assert Contact.objects.count() == 2


def queued_import_tasks() -> list[str]:
    return list(
        DBTaskResult.objects.ready()
        .filter(task_path__in=IMPORT_TASKS)
        .values_list("task_path", flat=True)
    )


def test_the_check_counts_duplicates_across_batches(audience, monkeypatch):
    monkeypatch.setattr(check, "CHECK_BATCH_ROWS", 2)
    content = b"phone\n07911123456\n07911123457\n07911123458\n+447911123456\n"
    audience_import = import_checked(audience, content)
    assert (audience_import.rows_valid, audience_import.rows_duplicate) == (3, 1)
    [duplicate] = audience_import.problems.all()
    assert (duplicate.line, duplicate.first_line) == (5, 2)


def test_a_file_of_numbers_with_their_country_code_imports_with_any_country(
    audience,
):
    content = b"phone\n447911124001\n4.47911123456E+11\n"
    audience_import = import_checked(audience, content, region="US")
    assert (audience_import.rows_valid, audience_import.rows_rejected) == (2, 0)
    import_done(audience_import)
    assert set(audience.contacts.values_list("phone", flat=True)) == {
        "+447911124001",
        "+447911123456",
    }


def test_the_chosen_country_reads_national_numbers(audience):
    content = b"phone\n06 12 34 56 78\n"
    as_french = import_checked(audience, content, region="FR")
    as_british = import_checked(audience, content, region="GB")
    assert (as_french.rows_valid, as_british.rows_valid) == (1, 0)
    assert as_french.staged_rows.get().phone == "+33612345678"


def test_confirm_imports_valid_rows_and_reimport_adds_nothing(audience):
    done = import_done(import_checked(audience, CSV))
    assert (done.contacts_created, done.members_added) == (2, 2)
    ana = Contact.objects.get(phone="+447911123456")
    assert ana.name == "Ana"
    assert ana.attributes == {"first_name": "Ana", "city": "Porto"}

    done_again = import_done(import_checked(audience, CSV))
    assert (done_again.contacts_created, done_again.members_added) == (0, 0)
    assert Contact.objects.count() == 2
    assert AudienceMember.objects.filter(audience=audience).count() == 2


CHANGED_CSV = b"phone,name,city\n07911 123456,Ben,Leeds\n07911123457,,Porto\n"


def test_the_check_counts_the_known_contacts_the_file_would_change(audience):
    make_contact("+447911123456", name="Ana", attributes={"city": "Porto"})
    make_contact("+447911123457", name="Cy", attributes={"city": "Porto"})
    audience_import = import_checked(audience, CHANGED_CSV)
    # Ana would become Ben of Leeds; Cy's row changes nothing (no name, same city).
    assert audience_import.contacts_changing == 1


def test_known_contacts_keep_their_name_and_fields_unless_asked(audience):
    make_contact("+447911123456", name="Ana", attributes={"city": "Porto"})
    done = import_done(import_checked(audience, CHANGED_CSV))
    ana = Contact.objects.get(phone="+447911123456")
    assert (ana.name, ana.attributes) == ("Ana", {"city": "Porto"})
    assert (done.contacts_updated, done.members_added) == (0, 2)


def test_known_contacts_take_the_files_name_and_fields_when_asked(audience):
    make_contact("+447911123456", name="Ana", attributes={"city": "Porto", "vip": "y"})
    done = import_done(import_checked(audience, CHANGED_CSV), update_existing=True)
    ana = Contact.objects.get(phone="+447911123456")
    assert (ana.name, ana.attributes) == ("Ben", {"city": "Leeds", "vip": "y"})
    assert done.contacts_updated == 1


def test_an_import_written_in_pieces_writes_every_row_once(audience, monkeypatch):
    monkeypatch.setattr(run, "IMPORT_PIECE_ROWS", 1)
    make_contact("+447911123457", name="Old")
    content = b"phone,name\n07911123456,Ana\n07911123457,Ben\n07911123456,Dup\n"
    done = import_done(import_checked(audience, content), update_existing=True)
    assert (done.contacts_created, done.contacts_updated, done.members_added) == (
        1,
        1,
        2,
    )
    assert done.rows_done == done.rows_valid == 2
    names = dict(audience.contacts.values_list("phone", "name"))
    assert names == {"+447911123456": "Ana", "+447911123457": "Ben"}


def test_confirm_twice_is_refused(audience):
    audience_import = import_checked(audience, CSV)
    services.audience_import_confirm(audience_import=audience_import)
    with pytest.raises(services.DomainError, match="already importing"):
        services.audience_import_confirm(audience_import=audience_import)


def test_a_second_run_of_the_same_import_writes_nothing_more(audience):
    audience_import = import_done(import_checked(audience, CSV))
    assert services.audience_import_run(import_id=audience_import.pk) == (
        "not waiting for an import"
    )
    assert AudienceMember.objects.filter(audience=audience).count() == 2


def test_import_keeps_an_existing_opt_out(audience):
    make_contact(
        "+447911123456",
        opted_out_at="2026-01-01T00:00:00Z",
        opt_out_source=OptOutSource.REPLY,
    )
    import_done(import_checked(audience, CSV), update_existing=True)
    ana = Contact.objects.get(phone="+447911123456")
    assert ana.is_opted_out and ana.opt_out_source == OptOutSource.REPLY


def test_a_failure_while_importing_leaves_nothing_half_imported(audience, monkeypatch):
    audience_import = import_checked(audience, CSV)
    services.audience_import_confirm(audience_import=audience_import)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # Contacts are written first; failing at the membership step must undo them.
    monkeypatch.setattr(run, "import_members_insert", fail)
    import_tasks_run()
    assert Contact.objects.count() == 0
    audience_import.refresh_from_db()
    assert audience_import.status == AudienceImport.Status.FAILED
    assert "disk full" in audience_import.failure_reason
    assert "wrote nothing" in audience_import.failure_reason


def test_an_import_whose_worker_died_is_queued_again_and_completes_once(
    audience, settings
):
    """A worker killed mid-import leaves the import "importing" and its
    transaction rolled back: the engine queues it again once it has been quiet
    longer than AUDIENCE_IMPORT_STALL_SECONDS, and it completes exactly once."""
    audience_import = import_checked(audience, CSV)
    services.audience_import_confirm(audience_import=audience_import)
    DBTaskResult.objects.filter(task_path__in=IMPORT_TASKS).delete()  # the dead run
    later = timezone.now() + dt.timedelta(
        seconds=settings.AUDIENCE_IMPORT_STALL_SECONDS + 1
    )
    assert services.audience_imports_resume_stalled(now=timezone.now()) == 0
    assert services.audience_imports_resume_stalled(now=later) == 1
    assert services.audience_imports_resume_stalled(now=later) == 0
    import_tasks_run()
    audience_import.refresh_from_db()
    assert audience_import.status == AudienceImport.Status.IMPORTED
    assert AudienceMember.objects.filter(audience=audience).count() == 2


def test_a_check_whose_worker_died_starts_over_and_stages_each_row_once(
    audience, settings, monkeypatch
):
    monkeypatch.setattr(check, "CHECK_BATCH_ROWS", 1)
    audience_import = services.audience_import_upload(
        audience=audience, file_name="list.csv", content=CSV, region="GB"
    )
    # A run that staged one batch, then died.
    AudienceImportRow.objects.create(
        audience_import=audience_import, line=2, phone="+447911123456"
    )
    AudienceImport.objects.filter(pk=audience_import.pk).update(rows_done=1)
    DBTaskResult.objects.filter(task_path__in=IMPORT_TASKS).delete()
    later = timezone.now() + dt.timedelta(
        seconds=settings.AUDIENCE_IMPORT_STALL_SECONDS + 1
    )
    assert services.audience_imports_resume_stalled(now=later) == 1
    import_tasks_run()
    audience_import.refresh_from_db()
    assert audience_import.status == AudienceImport.Status.CHECKED
    assert (audience_import.rows_valid, audience_import.rows_rejected) == (2, 1)
    assert audience_import.staged_rows.count() == 2


def test_a_file_unreadable_past_its_header_fails_with_the_reason(audience):
    good = "".join(f"0791112{i:04d}\n" for i in range(10_000)).encode()
    content = b"phone\n" + good + "07911123457,é\n".encode("latin-1")
    audience_import = import_checked(audience, content)
    assert audience_import.status == AudienceImport.Status.FAILED
    assert "not UTF-8" in audience_import.failure_reason
    assert audience_import.staged_rows.count() == 0


def test_discard_forgets_the_file(audience):
    audience_import = import_checked(audience, CSV)
    services.audience_import_discard(audience_import=audience_import)
    audience_import.refresh_from_db()
    assert audience_import.status == AudienceImport.Status.DISCARDED
    assert bytes(audience_import.content) == b""
    assert audience_import.staged_rows.count() == 0
    with pytest.raises(services.DomainError):
        services.audience_import_confirm(audience_import=audience_import)


def test_rows_read_by_helper_processes_come_back_as_read_here_in_file_order():
    lines = [f"07911{i:06d},Name {i}" for i in range(50)]
    lines[7] = "not a number,Bad"
    lines[30] = ""
    content = ("phone,name\n" + "\n".join(lines) + "\n").encode()

    def batches(processes):
        reader = AudienceCsvReader(content, default_region="GB")
        return list(rows_parsed_in_batches(reader, batch_rows=8, processes=processes))

    in_helpers, here = batches(2), batches(1)
    assert in_helpers == here
    assert len(here) == 7
    rows = [row for batch in here for row in batch]
    assert [row.line for row in rows] == [n for n in range(2, 52) if n != 32]
    assert isinstance(rows[7], RejectedRow)
