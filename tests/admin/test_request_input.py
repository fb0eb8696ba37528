"""Hostile or odd request input on the admin's pages, as the role that meets it:
never a server error, and nothing shown that the role may not see."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from campaigns.admin.base import ID_MAX, id_from_request, ids_from_request
from campaigns.models import Contact, Recipient

from ..factories import make_audience, make_campaign, make_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, django_user_model):
    """A client signed in as a new user with one role."""
    client_class = type(client)

    def sign_in(role: str):
        user = django_user_model.objects.create_user(
            username=role.lower(), password="x", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        role_client = client_class()
        role_client.force_login(user)
        return role_client

    return sign_in


@pytest.fixture
def campaigns_two(db):
    ana = make_contact("+447911123456", name="Ana Lima", attributes={"city": "Porto"})
    ben = make_contact("+447911123457", name="Ben Costa")
    audience = make_audience("VIPs", [ana, ben])
    return make_campaign([audience], sms_text="Hello!"), make_campaign([audience])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("²", None),
        ("١٢", None),  # Arabic-Indic digits: int() reads them, no link of ours has them
        ("1_000", None),
        ("-3", None),
        ("0", None),
        ("", None),
        (None, None),
        ("99999999999999999999", None),
        (str(ID_MAX), ID_MAX),
        (str(ID_MAX + 1), None),
        ("\x00", None),
    ],
)
def test_an_id_from_request_input_is_a_positive_ascii_number_in_range(raw, expected):
    assert id_from_request(raw) == expected


def test_ids_from_request_input_keep_only_ids():
    assert ids_from_request("3,²,5, 8 ,99999999999999999999,,x") == [3, 5, 8]


@pytest.mark.parametrize("role", ["Approver", "Viewer"])
def test_the_image_page_opens_read_only_for_approvers_and_viewers(
    signed_in, campaigns_two, role
):
    image = campaigns_two[0].image
    page = signed_in(role).get(
        reverse("admin:campaigns_imageasset_change", args=[image.pk])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert image.name in html
    assert 'name="external_url"' not in html and 'name="upload"' not in html


@pytest.mark.parametrize("contact", ["²", "99999999999999999999", "-1", "x"])
def test_a_preview_for_a_contact_that_is_no_id_shows_the_first_contact(
    signed_in, campaigns_two, contact
):
    campaign = campaigns_two[0]
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    page = signed_in("Viewer").get(url, {"contact": contact})
    assert page.status_code == 200
    assert page.context["preview"].contact.name == "Ana Lima"


@pytest.mark.parametrize("junk", ["²", "99999999999999999999", "١", "\x00"])
def test_compare_ignores_what_is_not_an_id(signed_in, campaigns_two, junk):
    first, second = campaigns_two
    url = reverse("admin:campaigns_campaign_compare")
    viewer = signed_in("Viewer")
    page = viewer.get(url, {"ids": f"{junk},{first.pk},{second.pk}"})
    assert page.status_code == 200
    compared = [column["campaign"] for column in page.context["columns"]]
    assert set(compared) == {first, second}
    alone = viewer.get(url, {"ids": junk}, follow=True)
    assert "Select two or more campaigns to compare." in alone.content.decode()


def test_a_viewer_previews_without_contacts_names_or_numbers(signed_in, campaigns_two):
    """A Viewer has no contact permission: the picker numbers the contacts,
    and any of them is reached by its number, never by a name search."""
    campaign = campaigns_two[0]  # its text uses no field of the contact
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    viewer = signed_in("Viewer")
    page = viewer.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for secret in ("Ana Lima", "Ben Costa", "+447911123456", "7911"):
        assert secret not in html
    assert 'name="position"' in html and 'max="2"' in html
    assert 'name="q"' not in html
    assert '<strong id="preview-contact-name">Contact 1</strong>' in html
    html = viewer.get(url, {"position": "2", "q": "Ben"}).content.decode()
    assert '<strong id="preview-contact-name">Contact 2</strong>' in html
    for secret in ("Ana Lima", "Ben Costa", "+447911123456", "7911"):
        assert secret not in html


@pytest.mark.parametrize("role", ["Approver", "Marketer"])
def test_roles_that_see_contacts_pick_them_by_name_and_number(
    signed_in, campaigns_two, role
):
    campaign = campaigns_two[0]
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    html = signed_in(role).get(url).content.decode()
    assert ">Ana Lima (+447911123456)</option>" in html
    assert ">Ben Costa (+447911123457)</option>" in html


@pytest.mark.parametrize("phone", ["1E+4400", "1E+9999999"])
def test_a_number_too_large_for_any_phone_is_a_contact_form_error(
    marketer_client, phone
):
    page = marketer_client.post(
        reverse("admin:campaigns_contact_add"),
        {"phone": phone, "name": "Ana", "attributes": "{}"},
    )
    assert page.status_code == 200
    assert "more digits than any phone number" in page.content.decode()
    assert not Contact.objects.filter(name="Ana").exists()


@pytest.mark.parametrize("phone", ["1E+4400", "1E+9999999", "9" * 5000])
def test_a_number_too_large_for_any_phone_is_a_test_send_form_error(
    marketer_client, campaigns_two, phone
):
    campaign = campaigns_two[0]
    page = marketer_client.post(
        reverse("admin:campaigns_campaign_test_send", args=[campaign.pk]),
        {"phones": phone},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "more digits than any phone number" in html or "too long" in html
    assert not Recipient.objects.filter(is_test=True).exists()


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ('{"city": "Po\\u0000rto"}', "invisible NUL character"),
        ('{"ci\\u0000ty": "Porto"}', "invisible NUL character"),
        ('{"a": ' + "[" * 900 + "]" * 900 + "}", "at most 20 levels deep"),
        ("[" * 100_000, "Enter valid JSON"),
    ],
)
def test_contact_attributes_postgresql_cannot_store_are_a_form_error(
    marketer_client, attributes, message
):
    page = marketer_client.post(
        reverse("admin:campaigns_contact_add"),
        {"phone": "07911 123456", "name": "Ana", "attributes": attributes},
    )
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not Contact.objects.exists()
