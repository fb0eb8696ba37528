"""The admin as a marketer clicks through it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import (
    AudienceImport,
    CallbackEvent,
    CallbackRejection,
    Campaign,
    ChannelAttempt,
    Contact,
    ImageAsset,
    InboundMessage,
    Recipient,
)

from .factories import (
    campaign_form_data,
    image_bytes,
    make_audience,
    make_campaign,
    make_contact,
)

pytestmark = pytest.mark.django_db

EDITABLE = ["imageasset", "audience", "contact", "campaign"]
READ_ONLY = ["recipient", "channelattempt", "callbackevent", "inboundmessage"]


@pytest.fixture
def records():
    """One row of every model, so change pages have something to show."""
    contact = make_contact(name="Ana Lima", attributes={"city": "Porto"})
    audience = make_audience("VIPs", [contact])
    campaign = make_campaign([audience])
    recipient = Recipient.objects.create(
        campaign=campaign, contact=contact, phone=contact.phone, external_id="e1"
    )
    ChannelAttempt.objects.create(recipient=recipient, channel="viber", position=0)
    event = CallbackEvent.objects.create(
        method="POST", raw_body=b"{}", signature="valid", recipient=recipient
    )
    reply = InboundMessage.objects.create(
        phone=contact.phone, text="Thanks!", contact=contact, event=event
    )
    rejection = CallbackRejection.objects.create(
        day="2026-11-28", reason="bad_signature", count=3, last_at="2026-11-28T10:00Z"
    )
    return {
        "inboundmessage": reply,
        "callbackrejection": rejection,
        "imageasset": campaign.image,
        "audience": audience,
        "contact": contact,
        "campaign": campaign,
        "recipient": recipient,
        "channelattempt": recipient.attempts.get(),
        "callbackevent": event,
    }


@pytest.fixture(params=["superuser", "marketer"])
def any_client(request, admin_client, marketer_client):
    return admin_client if request.param == "superuser" else marketer_client


@pytest.mark.parametrize("model", EDITABLE + READ_ONLY)
def test_changelist_and_change_pages_render(any_client, records, model):
    changelist = any_client.get(reverse(f"admin:campaigns_{model}_changelist"))
    assert changelist.status_code == 200
    change = any_client.get(
        reverse(f"admin:campaigns_{model}_change", args=[records[model].pk])
    )
    assert change.status_code == 200


@pytest.mark.parametrize("model", EDITABLE)
def test_add_pages_render(any_client, model):
    assert any_client.get(reverse(f"admin:campaigns_{model}_add")).status_code == 200


@pytest.mark.parametrize("model", READ_ONLY)
def test_delivery_records_cannot_be_added_edited_or_deleted(any_client, records, model):
    obj = records[model]
    assert any_client.get(reverse(f"admin:campaigns_{model}_add")).status_code == 403
    assert (
        any_client.post(
            reverse(f"admin:campaigns_{model}_delete", args=[obj.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    page = any_client.get(reverse(f"admin:campaigns_{model}_change", args=[obj.pk]))
    assert b'name="_save"' not in page.content
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize(
    "url", ["admin:auth_user_changelist", "admin:auth_group_changelist"]
)
def test_marketer_cannot_manage_users_or_groups(marketer_client, url):
    assert marketer_client.get(reverse(url)).status_code == 403


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


def test_csv_import_upload_check_confirm(marketer_client):
    audience = make_audience("Newsletter")
    csv = b"phone;first_name\n07911 123456;Ana\n0044 7911 123457;Ben\n3.8E+11;Cy\n"
    response = marketer_client.post(
        reverse("admin:campaigns_audience_import", args=[audience.pk]),
        {"file": SimpleUploadedFile("list.csv", csv, "text/csv")},
    )
    assert response.status_code == 302
    check_url = response["Location"]
    page = marketer_client.get(check_url).content.decode()
    assert "shortened by Excel" in page
    assert '<strong id="rows-valid">2</strong>' in page
    assert Contact.objects.count() == 0  # nothing written before confirmation

    rejected = marketer_client.get(check_url + "rejected.csv")
    assert rejected["Content-Type"].startswith("text/csv")
    assert b"3.8E+11" in rejected.content and b"shortened by Excel" in rejected.content

    done = marketer_client.post(check_url, {"confirm": "1"}, follow=True)
    assert "2 new contact(s), 2 added" in done.content.decode()
    assert audience.contacts.count() == 2
    assert AudienceImport.objects.get().status == AudienceImport.Status.IMPORTED


def test_unreadable_csv_is_refused_on_the_upload_page(marketer_client):
    audience = make_audience()
    response = marketer_client.post(
        reverse("admin:campaigns_audience_import", args=[audience.pk]),
        {"file": SimpleUploadedFile("list.csv", b"name\nAna\n", "text/csv")},
    )
    assert response.status_code == 200
    assert "needs a column named" in response.content.decode()
    assert AudienceImport.objects.count() == 0


def campaign_form(records, **changes) -> dict:
    return campaign_form_data(records["imageasset"].pk, **changes)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"sms_text": ""}, "Write the SMS text"),
        ({"fallback_time": 4000}, "less than or equal to 3600"),
        ({"fallback_time": 10}, "greater than or equal to 30"),
        ({"send_window_start": "09:00"}, "Set both ends of the sending window"),
        ({"sms_text": "x" * 1600}, "longer than 10 segments"),
    ],
)
def test_campaign_editor_refuses_invalid_content(
    marketer_client, records, changes, error
):
    response = marketer_client.post(
        reverse("admin:campaigns_campaign_add"), campaign_form(records, **changes)
    )
    assert error in response.content.decode()
    assert not Campaign.objects.filter(name="New campaign").exists()


def test_campaign_editor_saves_a_valid_campaign(marketer_client, records, marketer):
    response = marketer_client.post(
        reverse("admin:campaigns_campaign_add"),
        campaign_form(records, audiences=[records["audience"].pk]),
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(name="New campaign")
    assert campaign.created_by == marketer
    assert list(campaign.audiences.all()) == [records["audience"]]


def test_campaign_page_counts_targeted_recipients(marketer_client, records):
    campaign = records["campaign"]
    records["audience"].contacts.add(make_contact(opted_out_at="2026-01-01T00:00Z"))
    page = marketer_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert "1 recipient(s) would be messaged: 2 contact(s)" in page
    assert "1 opted out and excluded" in page


def test_campaign_content_is_read_only_once_sending(marketer_client, records):
    campaign = records["campaign"]
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = marketer_client.get(url).content.decode()
    assert 'name="sms_text"' not in page
    marketer_client.post(url, {"name": "Changed", "sms_text": "Changed"})
    campaign.refresh_from_db()
    assert campaign.sms_text != "Changed" and campaign.name != "Changed"


def test_preview_shows_personalised_sms_and_image_url(marketer_client, records):
    campaign = records["campaign"]
    response = marketer_client.get(
        reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Hi Ana, 2 for 1 today only!" in page
    assert campaign.image.public_url in page


def test_preview_for_a_chosen_contact(marketer_client, records):
    campaign = records["campaign"]
    ben = make_contact(name="Ben Ode")
    records["audience"].contacts.add(ben)
    page = marketer_client.get(
        reverse("admin:campaigns_campaign_preview", args=[campaign.pk]),
        {"contact": ben.pk},
    ).content.decode()
    assert "Hi Ben, 2 for 1 today only!" in page


# --- launching and controlling from the campaign page ---------------------------


def test_marketer_launches_from_the_campaign_page(marketer_client, records, sandbox):
    campaign = records["campaign"]
    url = reverse("admin:campaigns_campaign_launch", args=[campaign.pk])
    page = marketer_client.get(url).content.decode()
    assert "<strong>1</strong> recipient(s) will be messaged" in page
    assert "Telesign sandbox" in page
    response = marketer_client.post(url, follow=True)
    assert "launched: 1 recipient(s) to message" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert Recipient.objects.filter(campaign=campaign, is_test=False).count() == 1


def test_launch_page_lists_problems_instead_of_a_button(marketer_client):
    campaign = make_campaign([])
    page = marketer_client.get(
        reverse("admin:campaigns_campaign_launch", args=[campaign.pk])
    ).content.decode()
    assert "cannot be launched yet" in page and "at least one audience" in page
    assert "Launch now" not in page


def test_pause_resume_and_cancel_buttons(marketer_client, records, sandbox):
    campaign = records["campaign"]
    marketer_client.post(reverse("admin:campaigns_campaign_launch", args=[campaign.pk]))

    def control(action):
        url = reverse("admin:campaigns_campaign_control", args=[campaign.pk, action])
        return marketer_client.post(url, follow=True).content.decode()

    assert "paused" in control("pause")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.PAUSED
    assert "cannot be paused" in control("pause")
    assert "resumed" in control("resume")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENDING
    assert "cancelled" in control("cancel")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.CANCELLED


def test_test_send_from_the_campaign_page(marketer_client, records, sandbox):
    campaign = records["campaign"]
    url = reverse("admin:campaigns_campaign_test_send", args=[campaign.pk])
    response = marketer_client.post(url, {"phones": "07911 123001"}, follow=True)
    assert "Test send to +447911123001: accepted by Telesign" in (
        response.content.decode()
    )
    assert Recipient.objects.filter(campaign=campaign, is_test=True).count() == 1
    bad = marketer_client.post(url, {"phones": "hello"})
    assert "not part of a phone number" in bad.content.decode()


def test_launch_needs_the_launch_permission(client, django_user_model, records):
    user = django_user_model.objects.create_user(
        username="viewer", password="x", is_staff=True
    )
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client.force_login(user)
    campaign = records["campaign"]
    for name in ("launch", "test_send"):
        url = reverse(f"admin:campaigns_campaign_{name}", args=[campaign.pk])
        assert client.post(url).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_refused_callbacks_are_visible_to_an_admin_only(
    admin_client, marketer_client, records
):
    url = reverse("admin:campaigns_callbackrejection_changelist")
    page = admin_client.get(url)
    assert page.status_code == 200 and "bad_signature" in page.content.decode()
    assert marketer_client.get(url).status_code == 403


def test_callback_event_page_shows_the_raw_json_pretty_printed(admin_client, records):
    event = records["callbackevent"]
    CallbackEvent.objects.filter(pk=event.pk).update(
        raw_body=b'{"status":{"code":3000}}'
    )
    page = admin_client.get(
        reverse("admin:campaigns_callbackevent_change", args=[event.pk])
    ).content.decode()
    assert "&quot;status&quot;: {\n    &quot;code&quot;: 3000" in page


def test_recipient_page_links_the_callbacks_that_shaped_it(marketer_client, records):
    recipient = records["recipient"]
    page = marketer_client.get(
        reverse("admin:campaigns_recipient_change", args=[recipient.pk])
    ).content.decode()
    event_url = reverse(
        "admin:campaigns_callbackevent_change", args=[records["callbackevent"].pk]
    )
    assert event_url in page


def launched_with(count: int) -> Campaign:
    """A campaign whose `count` recipients were materialised as at launch."""
    contacts = [make_contact(f"+4479112{i:05d}") for i in range(count)]
    campaign = make_campaign([make_audience(contacts=contacts)])
    Recipient.objects.bulk_create(
        [
            Recipient(
                campaign=campaign,
                contact=contact,
                phone=contact.phone,
                external_id=f"c{campaign.pk}-{contact.pk}",
                status_code=3000 if i % 2 else 3056,
            )
            for i, contact in enumerate(reversed(contacts))
        ]
    )
    return campaign


def recipients_page(client, campaign, **filters):
    """The recipient list as a report tile links to it."""
    from campaigns.admin import recipients_url

    return client.get(recipients_url(campaign.pk, **filters))


def test_recipient_lists_count_no_further_than_their_cap(marketer_client, monkeypatch):
    from campaigns.admin import CappedCountPaginator

    campaign = launched_with(7)
    page = recipients_page(marketer_client, campaign).content.decode()
    assert "7 recipients" in page and "More than" not in page

    monkeypatch.setattr(CappedCountPaginator, "CAP", 5)
    answer = recipients_page(marketer_client, campaign)
    assert answer.context["cl"].result_count == 6  # counted up to the cap, plus one
    assert "More than 5 recipients" in answer.content.decode()


def test_a_campaigns_recipients_are_listed_in_contact_order(marketer_client):
    campaign = launched_with(4)
    listed = recipients_page(marketer_client, campaign).context["cl"].result_list
    contact_ids = [recipient.contact_id for recipient in listed]
    assert contact_ids == sorted(contact_ids)


def test_the_status_code_filter_lists_described_codes_and_takes_any_code(
    marketer_client,
):
    campaign = launched_with(4)
    from campaigns.telesign.codes import STATUS_CODES

    page = recipients_page(marketer_client, campaign).content.decode()
    assert f"3056 {STATUS_CODES[3056].description}" in page  # Telesign's words

    delivered = recipients_page(marketer_client, campaign, status_code__exact="3000")
    assert {r.status_code for r in delivered.context["cl"].result_list} == {3000}
    assert delivered.context["cl"].result_count == 2
    Recipient.objects.filter(campaign=campaign).update(status_code=3999)
    unknown = recipients_page(marketer_client, campaign, status_code__exact="3999")
    assert unknown.context["cl"].result_count == 4  # not in the table, still found
    wrong = recipients_page(marketer_client, campaign, status_code__exact="abc")
    assert wrong.status_code == 302 and "e=1" in wrong["Location"]
    assert Recipient.objects.filter(campaign=campaign).count() == 4


def test_a_refused_upload_leaves_no_file_in_storage(marketer_client, media_root):
    from pathlib import Path

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
