"""Building a campaign as a marketer: the editor's steps, its live figures,
the preview's search over every targeted contact, the SMS length row, and
times said in the workspace's zone and the recipients' own."""

import datetime as dt
from html import unescape

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Recipient

from ..factories import campaign_form_data, make_audience, make_campaign, make_contact
from ..report_helpers import make_recipient

pytestmark = pytest.mark.django_db

LIVE = "admin:campaigns_campaign_live"


def viewer_client(client, django_user_model):
    user = django_user_model.objects.create_user(
        username="vera", password="x", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Viewer"))
    client.force_login(user)
    return client


def test_the_editor_is_a_sequence_of_steps_ending_in_a_review(marketer_client):
    page = marketer_client.get(reverse("admin:campaigns_campaign_add")).content.decode()
    headings = [
        "Name and image",
        "Audience",
        "Message",
        "Schedule and limits",
        "Review",
    ]
    positions = [page.index(f">{heading}</h2>") for heading in headings]
    assert positions == sorted(positions)
    assert page.count('class="module aligned step') == len(headings)
    assert (
        "campaigns/campaign_steps.js" in page and "campaigns/campaign_live.js" in page
    )
    assert reverse(LIVE) in page  # where the live figures come from
    assert "Shown after saving" not in page


def test_live_figures_of_an_unsaved_campaign(marketer_client, records, settings):
    settings.PRICE_VIBER_MESSAGE, settings.PRICE_SMS_SEGMENT = 0.01, 0.05
    audience = records["audience"]
    audience.contacts.add(make_contact(opted_out_at="2026-01-01T00:00Z"))
    figures = marketer_client.post(
        reverse(LIVE),
        {
            "image": records["imageasset"].pk,
            "audiences": str(audience.pk),
            "sms_text": "Hi {first_name}, 2 for 1!",
            "sms_fallback_enabled": "1",
            "fallback_time": "60",
            "max_send_rate": "20",
        },
    ).json()
    assert figures["channels"] == (
        "Viber, with SMS fallback — an SMS follows if Viber has not delivered "
        "within 60 s."
    )
    assert figures["recipients"] == (
        "1 recipient(s) would be messaged: 2 contact(s) in the audiences, "
        "1 opted out and excluded."
    )
    assert figures["targeted"] == 1
    assert figures["cost"].startswith("0.03 EUR for 1 recipient(s): Viber 0.01")
    assert figures["image"]["url"] == records["imageasset"].public_url
    assert figures["sms_text"] == "Hi Ana, 2 for 1!"
    assert figures["sms_length"].startswith("16 characters · 1 segment · GSM-7")
    assert figures["contact"] == str(records["contact"])
    assert not Campaign.objects.filter(name="").exists()  # nothing was saved


def test_live_figures_name_placeholders_no_contact_has(marketer_client, records):
    figures = marketer_client.post(
        reverse(LIVE),
        {
            "audiences": str(records["audience"].pk),
            "sms_text": "Hi {firstname}",
            "sms_fallback_enabled": "1",
        },
    ).json()
    assert "uses {firstname}, which no contact" in figures["sms_problems"][0]
    assert figures["sms_text"] == "Hi {firstname}"  # as written, never blanked


def test_live_figures_are_only_for_people_who_edit_campaigns(
    client, django_user_model, records
):
    """Any text may be personalised there, so a Viewer (no contact permission)
    is refused rather than shown contacts' fields."""
    refused = viewer_client(client, django_user_model).post(
        reverse(LIVE), {"audiences": str(records["audience"].pk), "sms_text": "{phone}"}
    )
    assert refused.status_code == 403
    assert records["contact"].phone not in refused.content.decode()


def test_the_review_shows_what_a_launch_would_do(marketer_client, records):
    campaign = records["campaign"]
    page = marketer_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    review = page[page.index(">Review</h2>") :]
    assert '<span data-live="sms_text">Hi Ana, 2 for 1 today only!</span>' in review
    assert "1 recipient(s) would be messaged" in review
    assert 'data-live="cost"' in review and "Starts when launched." in review
    assert "Not approved yet" in review or "approval is optional" in review
    test_send = reverse("admin:campaigns_campaign_test_send", args=[campaign.pk])
    assert f'formaction="{test_send}"' in review and 'name="phones"' in review


def test_a_test_send_from_the_review_returns_to_the_review(
    marketer_client, records, sandbox
):
    campaign = records["campaign"]
    url = reverse("admin:campaigns_campaign_test_send", args=[campaign.pk])
    form = {**campaign_form_data(records["imageasset"].pk), "phones": "07911 123001"}
    response = marketer_client.post(url, form)
    assert response.status_code == 302 and response.url.endswith("/change/#review")
    assert Recipient.objects.filter(campaign=campaign, is_test=True).count() == 1


def test_the_preview_finds_any_targeted_contact_by_name_or_number(marketer_client):
    contacts = [make_contact(name=f"Person {n}") for n in range(30)]
    late = make_contact("+447700900123", name="Zoë Late")
    campaign = make_campaign([make_audience(contacts=[*contacts, late])])
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    assert "Zoë Late" not in marketer_client.get(url).content.decode()
    for query in ("zoë", "+44 7700 900123", "07700900123", "00447700900123"):
        page = marketer_client.get(url, {"q": query}).content.decode()
        assert '<strong id="preview-contact-name">Zoë Late (+447700900123)' in page
        assert "Hi Zoë, 2 for 1 today only!" in page
    page = marketer_client.get(url, {"q": "nobody"}).content.decode()
    assert 'id="preview-no-match"' in page


def test_a_viewer_reaches_any_contact_by_position_without_seeing_it(
    client, django_user_model
):
    contacts = [make_contact(name=f"Person {n}") for n in range(30)]
    campaign = make_campaign([make_audience(contacts=contacts)], sms_text="Hello!")
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    page = (
        viewer_client(client, django_user_model)
        .get(url, {"position": "27", "q": "Person 26"})
        .content.decode()
    )
    assert '<strong id="preview-contact-name">Contact 27</strong>' in page
    assert "Person 2" not in page and contacts[26].phone not in page


def test_the_length_row_says_what_the_live_counter_says(marketer_client, records):
    campaign = records["campaign"]
    Campaign.objects.filter(pk=campaign.pk).update(sms_text="Price: 5€ [today]")
    page = marketer_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert (
        '<span data-sms-length id="sms-length">17 characters · 1 segment · GSM-7, '
        "20 of 160 (“€”, “[”, “]” count as two)</span>"
    ) in page


def test_line_breaks_are_stored_as_the_counter_counts_them(marketer_client, records):
    marketer_client.post(
        reverse("admin:campaigns_campaign_add"),
        campaign_form_data(records["imageasset"].pk, sms_text="Hi\r\nthere"),
    )
    assert Campaign.objects.get(name="New campaign").sms_text == "Hi\nthere"


def campaign_added_for_nine(client, records) -> Campaign:
    """A campaign added through the form to start 3 Dec 2030 at 09:00, as the
    person typed it in their zone."""
    client.post(
        reverse("admin:campaigns_campaign_add"),
        campaign_form_data(
            records["imageasset"].pk,
            audiences=[records["audience"].pk],
            scheduled_at_0="2030-12-03",
            scheduled_at_1="09:00",
        ),
    )
    return Campaign.objects.get(name="New campaign")


def test_scheduled_start_is_entered_and_shown_in_the_workspace_zone(
    marketer_client, records, settings, sandbox
):
    settings.TIME_ZONE = settings.WORKSPACE_TIME_ZONE = "Europe/Kyiv"
    add = marketer_client.get(reverse("admin:campaigns_campaign_add"))
    assert "Date and time in Europe/Kyiv. Empty: start on launch." in (
        add.content.decode()
    )
    assert "UTC" not in add.content.decode()
    campaign = campaign_added_for_nine(marketer_client, records)
    assert campaign.scheduled_at == dt.datetime(2030, 12, 3, 7, 0, tzinfo=dt.UTC)
    launch = reverse("admin:campaigns_campaign_launch", args=[campaign.pk])
    assert "Starts 3 Dec 09:00 Europe/Kyiv." in (
        marketer_client.get(launch).content.decode()
    )
    done = marketer_client.post(launch, follow=True).content.decode()
    assert "Starts 3 Dec 09:00 Europe/Kyiv." in done


def test_quiet_hours_are_said_once_in_the_recipients_local_time(
    marketer_client, records
):
    campaign = records["campaign"]
    Campaign.objects.filter(pk=campaign.pk).update(
        send_window_start=dt.time(9), send_window_end=dt.time(21)
    )
    page = unescape(
        marketer_client.get(
            reverse("admin:campaigns_campaign_change", args=[campaign.pk])
        ).content.decode()
    )
    assert (
        "Quiet hours: nothing is sent between 21:00 and 09:00 in each "
        "recipient's local time."
    ) in page
    assert page.count("local time") == 2  # the step's description and the review
    launch = unescape(
        marketer_client.get(
            reverse("admin:campaigns_campaign_launch", args=[campaign.pk])
        ).content.decode()
    )
    assert "nothing is sent between 21:00 and 09:00 in each recipient's" in launch


def test_the_campaign_page_counts_recipients_waiting_for_their_window(
    marketer_client, records
):
    campaign = records["campaign"]
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.SENDING,
        send_window_start=dt.time(9),
        send_window_end=dt.time(21),
    )
    later = timezone.now() + dt.timedelta(hours=3)
    for _ in range(3):
        make_recipient(campaign, make_contact(), next_attempt_at=later)
    page = marketer_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert (
        '<span id="waiting-for-window">3 waiting for 09:00 local time in their '
        "zone.</span>"
    ) in page


def test_a_marketer_works_in_their_own_time_zone(
    marketer_client, records, admin_client
):
    page = reverse("admin:campaigns_campaign_time_zone")
    assert "The workspace&#x27;s (UTC)" in marketer_client.get(page).content.decode()
    refused = marketer_client.post(page, {"time_zone": "Mars/Olympus"})
    assert "Select a valid choice" in refused.content.decode()
    marketer_client.post(page, {"time_zone": "America/New_York"})
    add = marketer_client.get(reverse("admin:campaigns_campaign_add")).content.decode()
    assert "Date and time in America/New_York" in add
    campaign = campaign_added_for_nine(marketer_client, records)
    assert campaign.scheduled_at == dt.datetime(2030, 12, 3, 14, 0, tzinfo=dt.UTC)
    launch = reverse("admin:campaigns_campaign_launch", args=[campaign.pk])
    assert "Starts 3 Dec 09:00 America/New_York." in (
        marketer_client.get(launch).content.decode()
    )
    # Someone else still works in the workspace's zone.
    assert "Starts 3 Dec 14:00 UTC." in admin_client.get(launch).content.decode()


def test_the_campaign_page_says_where_recipients_are_in_a_marketers_words(
    marketer_client, records
):
    # At 1 msg/s the page said "Being sent: 32" for recipients that were only
    # waiting their turn; held by a worker or not, they are waiting.
    campaign = records["campaign"]
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    RS = Recipient.SendStatus
    queued_before = Recipient.objects.filter(campaign=campaign).count()
    statuses = [RS.QUEUED] * 3 + [RS.CLAIMED] * 2 + [RS.IN_FLIGHT]
    for status in statuses:
        make_recipient(campaign, make_contact(), send_status=status)
    page = marketer_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    waiting = queued_before + 5
    assert f"Waiting to be sent: {waiting}, On the wire to Telesign: 1" in page
    assert "Claimed by a worker" not in page and "Being sent" not in page
