"""A campaign from the editor to its launch, as a marketer clicks through it."""

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Recipient

from ..factories import campaign_form_data, make_campaign, make_contact

pytestmark = pytest.mark.django_db


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


def test_campaign_editor_refuses_placeholders_the_audiences_have_no_field_for(
    marketer_client, records
):
    url = reverse("admin:campaigns_campaign_add")
    audiences = [records["audience"].pk]
    page = marketer_client.post(
        url, campaign_form(records, sms_text="Hi {firstname}!", audiences=audiences)
    ).content.decode()
    assert "uses {firstname}, which no contact of the chosen audiences has" in page
    assert "Fields they have: name, first_name, last_name, phone, city." in page
    assert "Did you mean {first_name} for {firstname}?" in page
    assert not Campaign.objects.filter(name="New campaign").exists()

    text = "Hi {first_name|there} from {city}, use {{CODE}}"
    saved = marketer_client.post(
        url, campaign_form(records, sms_text=text, audiences=audiences)
    )
    assert saved.status_code == 302
    assert Campaign.objects.get(name="New campaign").sms_text == text


def test_preview_refuses_unknown_placeholders_instead_of_showing_blanks(
    marketer_client, records
):
    campaign = records["campaign"]
    Campaign.objects.filter(pk=campaign.pk).update(sms_text="Hi {firstname},")
    page = marketer_client.get(
        reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    ).content.decode()
    assert 'id="sms-problems"' in page
    assert "uses {firstname}, which no contact" in page
    assert "Hi {firstname}," in page and "Hi ," not in page


def test_preview_fills_fallbacks_and_warns_of_an_empty_sms(marketer_client, records):
    campaign = records["campaign"]
    blank = make_contact(name="", attributes={"city": " "})
    records["audience"].contacts.add(blank)
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    Campaign.objects.filter(pk=campaign.pk).update(
        sms_text="Hi {first_name|there} in {city|your town}"
    )
    page = marketer_client.get(url, {"contact": blank.pk}).content.decode()
    assert "Hi there in your town" in page and 'id="sms-blank"' not in page

    Campaign.objects.filter(pk=campaign.pk).update(sms_text="{first_name} {city}")
    page = marketer_client.get(url, {"contact": blank.pk}).content.decode()
    assert 'id="sms-blank"' in page and "never sent" in page
    page = marketer_client.get(url).content.decode()  # Ana Lima, from Porto
    assert "Ana Porto" in page and 'id="sms-blank"' not in page


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


def test_the_test_send_page_says_when_the_cap_is_reached(
    marketer_client, records, sandbox, settings
):
    settings.TEST_SENDS_PER_CAMPAIGN = 2
    campaign = records["campaign"]
    url = reverse("admin:campaigns_campaign_test_send", args=[campaign.pk])
    marketer_client.post(url, {"phones": "07911 123001"})
    page = marketer_client.post(url, {"phones": "07911 123002, 07911 123003"})
    assert "has had 1 test send(s) and may have at most 2" in page.content.decode()
    assert "1 more can be sent." in page.content.decode()
    assert Recipient.objects.filter(campaign=campaign, is_test=True).count() == 1


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


def test_the_duplicate_action_creates_a_draft_copy_and_links_it(marketer_client):
    original = make_campaign(name="Autumn sale")

    response = marketer_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "duplicate_selected", "_selected_action": [original.pk]},
        follow=True,
    )

    copy = Campaign.objects.get(name="Copy of Autumn sale")
    assert copy.status == Campaign.Status.DRAFT
    page = response.content.decode()
    assert reverse("admin:campaigns_campaign_change", args=[copy.pk]) in page
