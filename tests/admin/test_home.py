"""The marketer's home: what is sending, what comes next, recent results,
audiences and images, the actions to start from; delivery records apart."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign

from ..factories import make_audience, make_campaign, make_contact, make_image
from ..report_helpers import finished_campaign, make_recipient

pytestmark = pytest.mark.django_db


def section(html: str, section_id: str) -> str:
    """The HTML of one <section id=…> of the page."""
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, section_id
    return match.group(0)


def test_the_home_shows_a_sending_campaigns_progress_rate_and_end(marketer_client):
    contacts = [make_contact() for _ in range(4)]
    campaign = make_campaign(
        [make_audience(contacts=contacts)],
        name="Winter sale",
        status=Campaign.Status.SENDING,
        started_at=timezone.now(),
    )
    for index, contact in enumerate(contacts):
        sent = index < 3
        make_recipient(
            campaign,
            contact,
            send_status="accepted" if sent else "queued",
            sent_at=timezone.now() - dt.timedelta(seconds=5) if sent else None,
        )
    services.campaign_report_refresh(campaign=campaign)

    html = marketer_client.get(reverse("admin:index")).content.decode()

    sending = section(html, "home-sending")
    assert "Winter sale" in sending
    assert '<progress max="4" value="3"' in sending
    assert re.search(r'home-sent">3</span> of <span class="home-target">4<', sending)
    assert "3 messages a minute" in sending
    assert "left)" in sending  # the expected end
    assert reverse("admin:campaigns_campaign_report", args=[campaign.pk]) in sending


def test_the_home_shows_recent_results_with_their_rates(marketer_client):
    campaign, _ = finished_campaign()
    services.campaign_report_refresh(campaign=campaign)
    report = campaign.report

    html = marketer_client.get(reverse("admin:index")).content.decode()

    results = section(html, "home-results")
    assert campaign.name in results
    for rate in (report.completion_rate, report.fallback_rate, report.read_rate):
        assert f"{100 * rate:.1f}%" in results


def test_the_home_lists_scheduled_campaigns_drafts_audiences_and_images(
    marketer_client,
):
    scheduled = make_campaign(
        name="Black Friday",
        status=Campaign.Status.SCHEDULED,
        scheduled_at=timezone.now() + dt.timedelta(days=1),
    )
    draft = make_campaign(name="Half-written", image=scheduled.image)
    make_audience("Loyal customers", [make_contact(), make_contact()])
    make_image("Snowflake banner")

    html = marketer_client.get(reverse("admin:index")).content.decode()

    assert "Black Friday" in section(html, "home-scheduled")
    assert draft.name in section(html, "home-drafts")
    assert 'Loyal customers</a> <span class="home-quiet">2 contacts' in section(
        html, "home-audiences"
    )
    assert "Snowflake banner" in section(html, "home-images")
    for url in (
        reverse("admin:campaigns_campaign_add"),
        reverse("admin:campaigns_audience_add"),
        reverse("admin:campaigns_imageasset_add"),
    ):
        assert url in html


def test_delivery_records_are_listed_apart_from_the_marketers_work(marketer_client):
    html = marketer_client.get(reverse("admin:index")).content.decode()

    records = section(html, "home-records")
    before_records = html[: html.index('id="home-records"')]
    for name in ("Callback events", "Channel attempts", "Inbound messages"):
        assert name in records
        assert name not in before_records


def test_the_sidebar_names_the_two_sections(marketer_client):
    html = marketer_client.get(
        reverse("admin:campaigns_campaign_changelist")
    ).content.decode()

    sidebar = html[html.index('id="nav-sidebar"') :]
    workspace = sidebar.index(">Campaigns<")
    records = sidebar.index("Delivery records (for administrators)")
    assert workspace < sidebar.index(">Audiences<") < records
    assert records < sidebar.index(">Callback events<")


def test_someone_without_campaigns_sees_no_campaign_figures(client, django_user_model):
    user = django_user_model.objects.create_user(
        username="viewer-of-nothing", password="x", is_staff=True
    )
    client.force_login(user)
    make_campaign(name="Secret plan", status=Campaign.Status.SCHEDULED)

    html = client.get(reverse("admin:index")).content.decode()

    assert "Secret plan" not in html
    assert 'id="home-sending"' not in html
