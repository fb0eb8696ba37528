"""Hostile audience files through the import pages (upload, check, confirm):
each bad cell is a row error or a noted repair, each bad file a clear refusal,
and the import always completes with every good row. Run on PostgreSQL too:
it refuses some text (NUL) that SQLite stores."""

import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.http import parse_header_parameters

from campaigns.models import AudienceImport, Contact

from ..factories import make_audience
from ..import_helpers import import_checked, import_tasks_run

pytestmark = pytest.mark.django_db


def upload(client, audience, content: bytes, name: str = "list.csv"):
    """Upload `content` and let the worker check it."""
    response = client.post(
        reverse("admin:campaigns_audience_import", args=[audience.pk]),
        {"file": SimpleUploadedFile(name, content, "text/csv"), "region": "GB"},
    )
    import_tasks_run()
    return response


def confirmed(client, check_url):
    """Confirm a checked import, let the worker import it: the page then."""
    client.post(check_url, {"confirm": "1"})
    import_tasks_run()
    return client.get(check_url)


def test_numbers_too_large_for_any_phone_are_row_errors_and_the_rest_imports(
    marketer_client,
):
    audience = make_audience()
    content = b"phone,name\n07911123456,Ana\n1E+4400,Ben\n1E+9999999,Cy\n"
    uploaded = upload(marketer_client, audience, content)
    assert uploaded.status_code == 302
    check_url = uploaded["Location"]

    page = marketer_client.get(check_url)
    rejected = {row.line: row.reason for row in page.context["rejected_rows"]}
    assert set(rejected) == {3, 4}
    assert all("more digits than any phone number" in r for r in rejected.values())
    download = b"".join(
        marketer_client.get(check_url + "rejected.csv").streaming_content
    ).decode()
    assert "1E+4400" in download and "1E+9999999" in download

    done = confirmed(marketer_client, check_url)
    assert "1 new contact(s), 1 added" in done.content.decode()
    assert list(audience.contacts.values_list("phone", flat=True)) == ["+447911123456"]


def test_nul_characters_are_removed_noted_and_the_import_completes(marketer_client):
    """NUL is invisible in a spreadsheet and PostgreSQL cannot store it: the
    check page says which lines had one, and the contacts are imported with
    the text the marketer sees."""
    audience = make_audience()
    content = (
        b"phone,name,city\n"
        b"07911123456,A\x00na,Por\x00to\n"
        b"07911123457,Ben,Lisbon\n"
        b"0791112\x003458,\x00,Faro\x00\n"
    )
    uploaded = upload(marketer_client, audience, content)
    assert uploaded.status_code == 302
    check_url = uploaded["Location"]

    page = marketer_client.get(check_url).content.decode()
    assert '<p class="import-note" id="nul-note">2 row(s)' in page
    assert "(line(s) 2, 4)" in page
    assert '<strong id="rows-valid">3</strong>' in page
    assert "\x00" not in page

    done = confirmed(marketer_client, check_url)
    assert done.status_code == 200
    assert "3 new contact(s), 3 added" in done.content.decode()
    assert AudienceImport.objects.get().status == AudienceImport.Status.IMPORTED
    contacts = {c.phone: (c.name, c.attributes) for c in Contact.objects.all()}
    assert contacts == {
        "+447911123456": ("Ana", {"city": "Porto"}),
        "+447911123457": ("Ben", {"city": "Lisbon"}),
        "+447911123458": ("", {"city": "Faro"}),
    }


def post_streamed(client, url, *, field, file_name, megabytes, tmp_path):
    """POST a multipart body of `megabytes` read from disk as from a socket, so
    the request itself costs no memory; returns the response and the most
    memory Python held meanwhile."""
    boundary = "hostile-upload-boundary"
    body = tmp_path / "body"
    with body.open("wb") as out:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{file_name}"\r\nContent-Type: text/csv\r\n\r\nphone\n'.encode()
        )
        for _ in range(megabytes):
            out.write(b"07911123456\n" * (1024 * 1024 // 12))
        out.write(f"\r\n--{boundary}--\r\n".encode())
    tracemalloc.start()
    try:
        with body.open("rb") as stream:
            response = client.request(
                REQUEST_METHOD="POST",
                PATH_INFO=url,
                CONTENT_TYPE=f"multipart/form-data; boundary={boundary}",
                CONTENT_LENGTH=str(body.stat().st_size),
                **{"wsgi.input": stream},
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response, peak


def test_an_upload_over_the_limit_is_refused_without_being_read(
    marketer_client, settings, tmp_path, monkeypatch
):
    """An over-limit file is refused by its size: neither it nor a copy of it
    is ever in memory, and it is never parsed."""
    settings.AUDIENCE_CSV_MAX_BYTES = 1024 * 1024
    settings.IMAGE_MAX_BYTES = 512 * 1024

    def parse_never(*args, **kwargs):
        raise AssertionError("an over-limit file must not be parsed")

    monkeypatch.setattr(
        "campaigns.services.audience_imports.check.AudienceCsvReader", parse_never
    )
    audience = make_audience()
    response, peak = post_streamed(
        marketer_client,
        reverse("admin:campaigns_audience_import", args=[audience.pk]),
        field="file",
        file_name="huge.csv",
        megabytes=8,
        tmp_path=tmp_path,
    )
    assert response.status_code == 200
    assert "The file is larger than 1 MB" in response.content.decode()
    assert AudienceImport.objects.count() == 0
    assert peak < 2 * 1024 * 1024, f"{peak / 1024 / 1024:.1f} MB held in memory"


def test_an_image_over_every_limit_gets_the_image_forms_message(
    marketer_client, settings, tmp_path
):
    settings.AUDIENCE_CSV_MAX_BYTES = 1024 * 1024
    settings.IMAGE_MAX_BYTES = 512 * 1024
    response, peak = post_streamed(
        marketer_client,
        reverse("admin:campaigns_imageasset_add"),
        field="upload",
        file_name="huge.jpg",
        megabytes=4,
        tmp_path=tmp_path,
    )
    assert response.status_code == 200
    assert "images may be at most 0.5 MB" in response.content.decode()
    assert peak < 2 * 1024 * 1024


def test_a_file_kept_on_disk_while_uploading_is_imported_as_usual(marketer_client):
    """Past Django's 2.5 MB in memory an upload streams to a temporary file;
    under the limit it is checked and imported like a small one."""
    audience = make_audience()
    padding = ("," * 1000 + "\n").encode() * 3000  # 3 MB of empty rows
    content = b"phone,name\n07911123456,Ana\n" + padding + b"07911123457,Ben\n"
    assert len(content) > 2.5 * 1024 * 1024
    uploaded = upload(marketer_client, audience, content)
    assert uploaded.status_code == 302
    page = marketer_client.get(uploaded["Location"]).content.decode()
    assert '<strong id="rows-valid">2</strong>' in page


@pytest.mark.parametrize(
    ("file_name", "download_name"),
    [
        ('a"b.csv', 'a"b-rejected.csv'),
        ("list\r\nSet-Cookie: x=1.csv", "listSet-Cookie: x=1-rejected.csv"),
        ("Liste été ✓.csv", "Liste été ✓-rejected.csv"),
        ("\r\n.csv", "audience-rejected.csv"),
        ('x\\"; filename=evil.exe.csv', 'x\\"; filename=evil.exe-rejected.csv'),
    ],
)
def test_the_rejected_rows_download_is_named_safely_after_the_upload(
    marketer_client, marketer, file_name, download_name
):
    audience = make_audience()
    audience_import = import_checked(
        audience, b"phone\n07911123456\nnot a number\n", file_name=file_name
    )
    response = marketer_client.get(
        reverse("admin:campaigns_audience_import_rejected", args=[audience_import.pk])
    )
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    assert header.isascii()
    disposition, params = parse_header_parameters(header)
    assert disposition == "attachment"
    assert params == {"filename": download_name}
    assert b"not a number" in b"".join(response.streaming_content)
