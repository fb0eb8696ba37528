"""The workspace as a marketer clicks through it: images, contacts, audiences."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from campaigns.models import AudienceImport, Contact, ImageAsset

from ..factories import image_bytes, make_audience, make_contact
from ..import_helpers import import_tasks_run

pytestmark = pytest.mark.django_db


def test_marketer_can_upload_an_image_and_sees_a_clear_error_for_a_fake(
    marketer_client,
):
    fake = SimpleUploadedFile("sale.png", b"not really a png", "image/png")
    response = marketer_client.post(
        reverse("admin:campaigns_imageasset_add"), {"name": "Fake", "upload": fake}
    )
    assert response.status_code == 200
    assert "not a JPEG or PNG image" in response.content.decode()
    assert ImageAsset.objects.count() == 0

    real = SimpleUploadedFile("sale.jpg", image_bytes("PNG"), "image/jpeg")
    response = marketer_client.post(
        reverse("admin:campaigns_imageasset_add"), {"name": "Sale", "upload": real}
    )
    assert response.status_code == 302
    assert ImageAsset.objects.get().format == "PNG"


def test_external_image_must_be_https(marketer_client):
    response = marketer_client.post(
        reverse("admin:campaigns_imageasset_add"),
        {"name": "Hosted", "external_url": "http://cdn.example.com/a.jpg"},
    )
    assert "https only" in response.content.decode()
    assert ImageAsset.objects.count() == 0


def test_contact_phone_is_normalised_on_save(marketer_client):
    response = marketer_client.post(
        reverse("admin:campaigns_contact_add"),
        {"phone": "07911 123 456", "name": "Ana", "attributes": "{}"},
    )
    assert response.status_code == 302
    assert Contact.objects.get().phone == "+447911123456"


def test_bulk_opt_out_and_opt_in_actions(marketer_client):
    contacts = [make_contact(), make_contact()]
    url = reverse("admin:campaigns_contact_changelist")
    ids = [c.pk for c in contacts]
    response = marketer_client.post(
        url, {"action": "opt_out", "_selected_action": ids}, follow=True
    )
    assert "2 contact(s) opted out" in response.content.decode()
    assert Contact.objects.filter(opted_out_at__isnull=False).count() == 2
    marketer_client.post(url, {"action": "opt_in", "_selected_action": ids})
    assert Contact.objects.filter(opted_out_at__isnull=True).count() == 2


@pytest.mark.parametrize(
    "search", ["0044 7911 123456", "+44 7911 123456", "447911123456", "7911 123"]
)
def test_contact_search_finds_a_number_in_any_spelling(marketer_client, search):
    make_contact("+447911123456", name="Ana")
    make_contact("+447700900123", name="Ben")
    page = marketer_client.get(
        reverse("admin:campaigns_contact_changelist"), {"q": search}
    ).content.decode()
    assert "+447911123456" in page
    assert "+447700900123" not in page


def test_csv_import_upload_check_confirm(marketer_client):
    audience = make_audience("Newsletter")
    csv = b"phone;first_name\n07911 123456;Ana\n0044 7911 123457;Ben\n3.8E+11;Cy\n"
    response = marketer_client.post(
        reverse("admin:campaigns_audience_import", args=[audience.pk]),
        {"file": SimpleUploadedFile("list.csv", csv, "text/csv"), "region": "GB"},
    )
    assert response.status_code == 302
    check_url = response["Location"]
    checking = marketer_client.get(check_url).content.decode()
    assert 'data-status="checking"' in checking
    assert '<meta http-equiv="refresh"' in checking
    assert "<progress" in checking
    import_tasks_run()

    page = marketer_client.get(check_url).content.decode()
    assert "shortened by Excel" in page
    assert '<strong id="rows-valid">2</strong>' in page
    assert '<meta http-equiv="refresh"' not in page
    assert Contact.objects.count() == 0  # nothing written before confirmation

    rejected = marketer_client.get(check_url + "rejected.csv")
    assert rejected["Content-Type"].startswith("text/csv")
    body = b"".join(rejected.streaming_content)
    assert b"3.8E+11" in body and b"shortened by Excel" in body

    importing = marketer_client.post(check_url, {"confirm": "1"}, follow=True)
    assert "Importing 0 of 2 row(s)" in importing.content.decode()
    import_tasks_run()
    done = marketer_client.get(check_url).content.decode()
    assert "2 new contact(s), 2 added" in done
    assert audience.contacts.count() == 2
    assert AudienceImport.objects.get().status == AudienceImport.Status.IMPORTED
    history = marketer_client.get(
        reverse("admin:campaigns_audience_change", args=[audience.pk])
    ).content.decode()
    assert "Done: 2 new, 0 updated, 2 added to the audience" in history


def test_the_upload_page_offers_every_country_the_setting_chosen(
    marketer_client, settings
):
    settings.DEFAULT_PHONE_REGION = "UA"
    audience = make_audience()
    page = marketer_client.get(
        reverse("admin:campaigns_audience_import", args=[audience.pk])
    ).content.decode()
    assert '<option value="UA" selected>Ukraine (+380)</option>' in page
    assert '<option value="GB">United Kingdom (+44)</option>' in page


def test_the_chosen_country_reads_the_files_national_numbers(marketer_client):
    audience = make_audience()
    response = marketer_client.post(
        reverse("admin:campaigns_audience_import", args=[audience.pk]),
        {
            "file": SimpleUploadedFile("fr.csv", b"phone\n06 12 34 56 78\n"),
            "region": "FR",
        },
    )
    import_tasks_run()
    page = marketer_client.get(response["Location"]).content.decode()
    assert '<strong id="rows-valid">1</strong>' in page
    assert "read as numbers of <strong>France (+33)</strong>" in page


def test_the_check_page_asks_about_known_contacts_the_file_changes(marketer_client):
    make_contact("+447911123456", name="Ana", attributes={"city": "Porto"})
    audience = make_audience()
    response = marketer_client.post(
        reverse("admin:campaigns_audience_import", args=[audience.pk]),
        {
            "file": SimpleUploadedFile("l.csv", b"phone,name\n07911123456,Ben\n"),
            "region": "GB",
        },
    )
    import_tasks_run()
    page = marketer_client.get(response["Location"]).content.decode()
    assert '<strong id="contacts-changing">1</strong>' in page
    assert "1 contact(s) already known have another name" in page
    assert 'value="keep" id="id_existing_0" checked' in page
    marketer_client.post(response["Location"], {"confirm": "1", "existing": "keep"})
    import_tasks_run()
    assert Contact.objects.get(phone="+447911123456").name == "Ana"
    done = marketer_client.get(response["Location"]).content.decode()
    assert "1 known contact(s) kept their name and fields" in done


def test_unreadable_csv_is_refused_on_the_upload_page(marketer_client):
    audience = make_audience()
    response = marketer_client.post(
        reverse("admin:campaigns_audience_import", args=[audience.pk]),
        {"file": SimpleUploadedFile("list.csv", b"name\nAna\n", "text/csv")},
    )
    assert response.status_code == 200
    assert "needs a column named" in response.content.decode()
    assert AudienceImport.objects.count() == 0


def test_a_refused_upload_leaves_no_file_in_storage(marketer_client, media_root):
    for refused in (
        {"name": ""},  # a valid image, but the form misses its name
        {"name": "Sale", "external_url": "http://cdn.example.com/a.jpg"},
    ):
        image = SimpleUploadedFile("sale.png", image_bytes("PNG"), "image/png")
        response = marketer_client.post(
            reverse("admin:campaigns_imageasset_add"), {**refused, "upload": image}
        )
        assert response.status_code == 200
        assert ImageAsset.objects.count() == 0
        assert [p for p in Path(media_root).rglob("*") if p.is_file()] == []


def test_a_hosted_image_is_saved_with_the_format_of_its_address(marketer_client):
    response = marketer_client.post(
        reverse("admin:campaigns_imageasset_add"),
        {"name": "Hosted", "external_url": "https://cdn.example.com/a.png"},
    )
    assert response.status_code == 302
    asset = ImageAsset.objects.get()
    assert (asset.format, asset.external_url) == (
        "PNG",
        "https://cdn.example.com/a.png",
    )
    assert not asset.file


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://cdn.example.com\\@127.0.0.1/a.jpg", "backslash"),
        ("https://user:secret@cdn.example.com/a.jpg", "user name or password"),
        ("https://127.0.0.1/a.jpg", "private, local or reserved"),
        ("https://[::ffff:127.0.0.1]/a.jpg", "private, local or reserved"),
        ("https://169.254.169.254/a.jpg", "private, local or reserved"),
        ("https://localhost/a.jpg", "private network"),
        ("https://2130706433/a.jpg", "Enter a valid URL"),
    ],
)
def test_an_external_image_address_on_a_private_network_is_refused(
    marketer_client, url, message
):
    response = marketer_client.post(
        reverse("admin:campaigns_imageasset_add"),
        {"name": "Hosted", "external_url": url},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ImageAsset.objects.count() == 0


def test_a_phone_photo_uploaded_in_the_admin_is_stored_without_its_location(
    marketer_client,
):
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 26.0)})  # GPS
    photo = io.BytesIO()
    Image.new("RGB", (80, 40), "red").save(
        photo,
        format="MPO",
        save_all=True,
        append_images=[Image.new("RGB", (20, 10))],
        exif=exif.tobytes(),
    )
    assert Image.open(io.BytesIO(photo.getvalue())).format == "MPO"
    response = marketer_client.post(
        reverse("admin:campaigns_imageasset_add"),
        {
            "name": "From my phone",
            "upload": SimpleUploadedFile("IMG_0001.jpg", photo.getvalue()),
        },
    )
    assert response.status_code == 302
    asset = ImageAsset.objects.get()
    with asset.file.open("rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
    assert (asset.format, stored.format, stored.size) == ("JPEG", "JPEG", (80, 40))
    assert not stored.getexif()
