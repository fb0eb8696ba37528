"""Campaign reports in the admin: the pages that show the figures (constant
queries), drill-down, export, comparison, resend. The figures themselves are
tested in tests/selectors/test_reports.py."""

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import (
    CallbackEvent,
    Campaign,
    CampaignReport,
    Recipient,
)

from ..factories import make_audience, make_campaign, make_contact
from ..report_helpers import T0, at, finished_campaign, make_attempt, make_recipient

pytestmark = pytest.mark.django_db

O = Recipient.Outcome  # noqa: E741
S = Recipient.SendStatus


@pytest.fixture
def finished(db):
    """Ten recipients, one per report case (see tests/report_helpers.py)."""
    return finished_campaign()


def report_url(campaign):
    return reverse("admin:campaigns_campaign_report", args=[campaign.pk])


def test_report_page_shows_the_funnel_rates_and_charts(marketer_client, finished):
    campaign, _ = finished
    page = marketer_client.get(report_url(campaign))
    assert page.status_code == 200
    tiles = {tile["key"]: tile["value"] for tile in page.context["tiles"]}
    assert tiles == {
        "audience": 10,
        "suppressed": 3,
        "attempted": 8,
        "viber_delivered": 2,
        "read": 1,
        "sms_delivered": 2,
        "failed": 2,
        "pending": 2,
        "unconfirmed": 1,
    }
    html = page.content.decode()
    assert "25.0%" in html and "37.5%" in html and "50.0%" in html  # rates
    assert 'role="img"' in html and "<title" in html and "<desc" in html
    assert "Delivered on Viber: 2 (20.0%)" in html  # the chart's words
    assert "Permanent phone error" in html and "3101" in html
    # Offline: no chart library, no external address anywhere in the page.
    assert "https://" not in html.replace(campaign.image.public_url, "")
    # Everything is final or suppressed except three: the page keeps refreshing.
    assert 'http-equiv="refresh"' in html


def _tile_numbers(html: str) -> dict[str, str]:
    """Each tile's number as the page shows it, by the tile's key."""
    return dict(
        re.findall(
            r'data-tile="([a-z_]+)">.*?<span class="tile-value">([^<]*)</span>',
            html,
            flags=re.DOTALL,
        )
    )


def test_report_page_shows_every_figure_of_a_campaign_with_every_outcome(
    marketer_client, finished, settings
):
    """The page renders each figure: a figure the template cannot find would
    show as an empty cell, not an error."""
    settings.PRICE_VIBER_MESSAGE = 0.01
    settings.PRICE_SMS_SEGMENT = 0.05
    campaign, _ = finished
    make_recipient(campaign, make_contact(), outcome=O.CANCELLED)
    for index in range(10):  # twelve reasons of failure in all: two not listed
        make_recipient(
            campaign, make_contact(), outcome=O.FAILED, send_status=S.REJECTED,
            sent_at=T0, failure_reason=f"Reason {index}",
        )  # fmt: skip
    html = marketer_client.get(report_url(campaign)).content.decode()
    assert _tile_numbers(html) == {
        "audience": "21",
        "suppressed": "3",
        "attempted": "18",
        "viber_delivered": "2",
        "read": "1",
        "sms_delivered": "2",
        "failed": "12",
        "pending": "2",
        "unconfirmed": "1",
        "cancelled": "1",
    }
    assert "3 fell back to SMS" in html and "1 not sent yet" in html
    assert "1 opted out · 0 invalid · 2 duplicate" in html
    # Deliveries over time: the chart's numbers, and time to delivery.
    assert "Show the numbers" in html and "10:01:40" in html
    viber_times = '<th scope="row">Viber</th><td>2</td><td>10.0 s</td><td>20.0 s</td>'
    assert viber_times in html
    assert "The ten most frequent reasons" in html  # more reasons than listed
    assert "Message is read" in html  # the status codes table
    # Cost: six Viber and three SMS attempts, the SMS text one segment.
    assert "<td>6</td><td>0.06</td>" in html and "<td>3 × 1 segment(s)</td>" in html


def test_report_page_stops_refreshing_once_every_outcome_is_final(
    marketer_client, finished
):
    campaign, _ = finished
    Recipient.objects.filter(outcome=O.PENDING).update(outcome=O.FAILED)
    page = marketer_client.get(report_url(campaign))
    assert 'http-equiv="refresh"' not in page.content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_report_page_costs_the_same_queries_whatever_the_size(
    marketer_client, finished
):
    campaign, _ = finished
    services.campaign_report_refresh(campaign=campaign)
    CampaignReport.objects.filter(campaign=campaign).update(stale=True)
    small = _queries(marketer_client, report_url(campaign))
    for index in range(40):
        contact = make_contact()
        recipient = make_recipient(
            campaign, contact, outcome=O.SMS_DELIVERED, send_status=S.ACCEPTED,
            sent_at=T0, delivered_at=at(30 + index), last_channel="sms",
        )  # fmt: skip
        make_attempt(recipient, "viber", 3055 + index % 2, 5)
        make_attempt(recipient, "sms", 3000, 30 + index)
    CampaignReport.objects.filter(campaign=campaign).update(stale=True)
    large = _queries(marketer_client, report_url(campaign))
    assert large == small
    assert marketer_client.get(report_url(campaign)).context["tiles"][0]["value"] == 50


def test_campaign_list_costs_the_same_queries_whatever_the_number(
    marketer_client, finished
):
    url = reverse("admin:campaigns_campaign_changelist")
    campaign, _ = finished
    services.campaign_report_refresh(campaign=campaign)
    few = _queries(marketer_client, url)
    for _ in range(5):
        other = make_campaign(status=Campaign.Status.COMPLETED)
        services.campaign_report_refresh(campaign=other)
    assert _queries(marketer_client, url) == few


def test_campaign_list_shows_and_sorts_by_rates(marketer_client, finished):
    campaign, _ = finished
    services.campaign_report_refresh(campaign=campaign)
    better = make_campaign(name="Better", status=Campaign.Status.COMPLETED)
    CampaignReport.objects.create(
        campaign=better,
        computed_at=timezone.now(),
        recipients=10,
        progress=1.0,
        completion_rate=0.9,
        viber_delivery_rate=0.8,
        fallback_rate=0.1,
    )
    url = reverse("admin:campaigns_campaign_changelist")
    page = marketer_client.get(url).content.decode()
    assert "50%" in page and "90%" in page and "70%" in page
    # Column order: name, report, status, progress, completion, viber, fallback.
    ascending = marketer_client.get(url, {"o": "5"}).context["cl"].result_list
    names = [c.name for c in ascending if c.pk in (campaign.pk, better.pk)]
    assert names == [campaign.name, "Better"]
    descending = marketer_client.get(url, {"o": "-5"}).context["cl"].result_list
    names = [c.name for c in descending if c.pk in (campaign.pk, better.pk)]
    assert names == ["Better", campaign.name]


def test_compare_page_shows_campaigns_side_by_side(marketer_client, finished):
    campaign, _ = finished
    other = make_campaign(name="Second", status=Campaign.Status.COMPLETED)
    changelist = reverse("admin:campaigns_campaign_changelist")
    answer = marketer_client.post(
        changelist,
        {"action": "compare_selected", "_selected_action": [campaign.pk, other.pk]},
    )
    assert answer.status_code == 302
    page = marketer_client.get(answer["Location"])
    assert page.status_code == 200
    rows = dict(page.context["rows"])
    names = [c["campaign"].name for c in page.context["columns"]]
    values = dict(zip(names, rows["Completion rate"], strict=True))
    assert values == {campaign.name: "50.0%", "Second": "—"}
    assert dict(zip(names, rows["Delivered on Viber"], strict=True))[campaign.name] == 2


def test_compare_needs_two_campaigns(marketer_client, finished):
    campaign, _ = finished
    url = reverse("admin:campaigns_campaign_compare")
    answer = marketer_client.get(url, {"ids": str(campaign.pk)}, follow=True)
    assert "Select two or more campaigns" in answer.content.decode()


def _listed_phones(client, url) -> set[str]:
    page = client.get(url)
    assert page.status_code == 200, url
    return {r.phone for r in page.context["cl"].result_list}


def test_every_tile_drills_down_to_the_recipients_it_counts(marketer_client, finished):
    campaign, rows = finished
    page = marketer_client.get(report_url(campaign))
    tiles = {tile["key"]: tile for tile in page.context["tiles"]}
    expected = {
        "failed": {"failed_sms", "rejected"},
        "read": {"read"},
        "viber_delivered": {"read", "viber"},
        "sms_delivered": {"sms_3055", "sms_3056"},
        "unconfirmed": {"unconfirmed"},
        "suppressed": {"suppressed"},
        "pending": {"pending", "unconfirmed", "queued"},
    }
    for key, names in expected.items():
        listed = _listed_phones(marketer_client, tiles[key]["url"])
        assert listed == {rows[name].phone for name in names}, key
    attempted = _listed_phones(marketer_client, tiles["attempted"]["url"])
    assert len(attempted) == 8


def test_failure_reasons_and_status_codes_drill_down(marketer_client, finished):
    campaign, rows = finished
    page = marketer_client.get(report_url(campaign))
    reason_urls = {reason: url for reason, _, url in page.context["failure_reasons"]}
    listed = _listed_phones(marketer_client, reason_urls["3101 Invalid phone_number"])
    assert listed == {rows["rejected"].phone}
    code_url = next(
        row["url"]
        for row in page.context["codes"]
        if row["channel"] == "viber" and row["code"] == 3055
    )
    attempts = marketer_client.get(code_url).context["cl"].result_list
    assert {a.recipient.phone for a in attempts} == {
        rows["sms_3055"].phone,
        rows["failed_sms"].phone,
    }


def test_each_period_of_the_deliveries_chart_drills_down(marketer_client, finished):
    campaign, rows = finished
    page = marketer_client.get(report_url(campaign))
    periods = {row["start"]: row for row in page.context["timeline_rows"]}
    at_100 = periods["10:01:40"]
    assert (at_100["viber"], at_100["sms"]) == (0, 1)
    assert _listed_phones(marketer_client, at_100["sms_url"]) == {
        rows["sms_3055"].phone
    }
    assert _listed_phones(marketer_client, periods["10:00:10"]["viber_url"]) == {
        rows["read"].phone
    }


def test_recipient_page_opens_on_its_timeline_and_raw_callbacks(
    marketer_client, finished
):
    _, rows = finished
    recipient = rows["sms_3055"]
    event = CallbackEvent.objects.create(
        method="POST",
        raw_body=b"{}",
        signature=CallbackEvent.Signature.VALID,
        kind=CallbackEvent.Kind.DELIVERY,
        processing=CallbackEvent.Processing.APPLIED,
        status_code=3000,
        recipient=recipient,
    )
    url = reverse("admin:campaigns_recipient_change", args=[recipient.pk])
    html = marketer_client.get(url).content.decode()
    timeline = html[html.index('class="recipient-timeline"') :]
    assert timeline.index("Sent to Telesign") < timeline.index("Viber: 3055")
    assert timeline.index("Viber: 3055") < timeline.index("SMS: 3000")
    assert reverse("admin:campaigns_callbackevent_change", args=[event.pk]) in html


def _export(client, campaign, **query):
    url = reverse("admin:campaigns_campaign_export", args=[campaign.pk])
    response = client.get(url, query)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_export_lists_every_recipient_with_each_channel(marketer_client, finished):
    campaign, rows = finished
    table = _export(marketer_client, campaign)
    header, body = table[0], table[1:]
    assert header[:4] == ["phone", "name", "outcome", "final channel"]
    assert len(body) == 10  # the test send is not exported
    by_phone = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    fell_back = by_phone[rows["sms_3055"].phone]
    assert fell_back["outcome"] == "Delivered by SMS fallback"
    assert (fell_back["viber code"], fell_back["sms code"]) == ("3055", "3000")
    assert dt.datetime.fromisoformat(fell_back["sms updated"]) == at(100)
    assert dt.datetime.fromisoformat(fell_back["delivered at"]) == at(100)
    assert fell_back["read at"] == ""
    assert dt.datetime.fromisoformat(by_phone[rows["read"].phone]["read at"]) == at(60)
    # Phone numbers are plain numbers, not formulas: left as they are.
    assert fell_back["phone"].startswith("+")


def test_export_filters_by_outcome(marketer_client, finished):
    campaign, rows = finished
    body = _export(marketer_client, campaign, outcome="failed")[1:]
    assert {row[0] for row in body} == {
        rows["failed_sms"].phone,
        rows["rejected"].phone,
    }


def test_export_refuses_an_unknown_outcome_with_a_message(marketer_client, finished):
    campaign, _ = finished
    url = reverse("admin:campaigns_campaign_export", args=[campaign.pk])
    answer = marketer_client.get(url, {"outcome": "delivered-ish"}, follow=True)
    assert "Unknown outcome" in answer.content.decode()


@pytest.mark.parametrize(
    "dangerous", ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
                  "\tTab", "\rCR"]
)  # fmt: skip
def test_export_is_safe_against_formula_injection(marketer_client, finished, dangerous):
    campaign, rows = finished
    contact = rows["viber"].contact
    contact.name = dangerous
    contact.save()
    body = _export(marketer_client, campaign)[1:]
    name = next(row[1] for row in body if row[0] == contact.phone)
    assert name == "'" + dangerous


def test_resend_to_failed_never_includes_delivered_or_opted_out(
    marketer_client, finished, marketer
):
    campaign, rows = finished
    # The person behind one failure has since opted out: never messaged again.
    make_opted_out = rows["failed_sms"].contact
    make_opted_out.opted_out_at = timezone.now()
    make_opted_out.save()
    changelist = reverse("admin:campaigns_campaign_changelist")
    answer = marketer_client.post(
        changelist,
        {"action": "resend_failed", "_selected_action": [campaign.pk]},
        follow=True,
    )
    assert "Created draft" in answer.content.decode()
    follow_up = Campaign.objects.get(follow_up_of=campaign)
    assert follow_up.status == Campaign.Status.DRAFT
    assert follow_up.sms_only is False
    assert follow_up.created_by == marketer
    members = set(follow_up.audiences.get().contacts.values_list("phone", flat=True))
    assert members == {rows["rejected"].phone}


def test_resend_with_nothing_to_resend_says_so(marketer_client):
    campaign = make_campaign(status=Campaign.Status.COMPLETED)
    answer = marketer_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "resend_failed", "_selected_action": [campaign.pk]},
        follow=True,
    )
    assert "no failed recipient who can be messaged again" in answer.content.decode()
    assert not Campaign.objects.filter(follow_up_of=campaign).exists()


def test_reports_need_their_permission(client, django_user_model, finished):
    campaign, _ = finished
    user = django_user_model.objects.create_user(
        username="nosy", password="pw-for-tests-only", is_staff=True
    )
    user.user_permissions.add(
        *__import__(
            "django.contrib.auth.models", fromlist=["Permission"]
        ).Permission.objects.filter(codename="view_campaign")
    )
    client.force_login(user)
    export = reverse("admin:campaigns_campaign_export", args=[campaign.pk])
    compare = reverse("admin:campaigns_campaign_compare") + f"?ids={campaign.pk},1"
    for url in (report_url(campaign), export, compare):
        assert client.get(url).status_code == 403, url


def test_an_expensive_report_is_served_from_storage_not_recomputed(
    marketer_client, finished, settings
):
    campaign, _ = finished
    report = services.campaign_report_refresh(campaign=campaign)
    CampaignReport.objects.filter(pk=report.pk).update(compute_seconds=5.0, stale=True)
    Recipient.objects.filter(campaign=campaign, outcome=O.PENDING).update(
        outcome=O.FAILED
    )
    page = marketer_client.get(report_url(campaign))
    assert page.context["figures"].failed == 2  # as stored
    assert "figures as of" in page.content.decode()


def test_campaign_page_estimates_cost_before_launch(marketer_client, settings):
    settings.PRICE_VIBER_MESSAGE = 0.01
    settings.PRICE_SMS_SEGMENT = 0.05
    settings.ESTIMATED_FALLBACK_RATE = 0.5
    audience = make_audience(contacts=[make_contact() for _ in range(4)])
    draft = make_campaign(audiences=[audience], sms_text="Hi")
    url = reverse("admin:campaigns_campaign_change", args=[draft.pk])
    html = marketer_client.get(url).content.decode()
    assert "0.14 EUR for 4 recipient(s)" in html


def test_custom_pages_use_the_admins_styled_breadcrumbs(marketer_client, finished):
    campaign, _ = finished
    audience = make_audience()
    pages = [
        reverse("admin:campaigns_campaign_report", args=[campaign.pk]),
        reverse("admin:campaigns_campaign_preview", args=[campaign.pk]),
        reverse("admin:campaigns_campaign_test_send", args=[campaign.pk]),
        reverse("admin:campaigns_campaign_compare")
        + f"?ids={campaign.pk},{make_campaign().pk}",
        reverse("admin:campaigns_audience_import", args=[audience.pk]),
    ]
    for url in pages:
        html = marketer_client.get(url).content.decode()
        # Django's admin styles <ol class="breadcrumbs">, not the older <div>.
        assert '<ol class="breadcrumbs">' in html, url
        assert '<div class="breadcrumbs">' not in html, url
        assert '<li aria-current="page">' in html, url


def test_the_resend_buttons_look_like_the_admins_buttons(marketer_client, finished):
    campaign, _ = finished
    html = marketer_client.get(
        reverse("admin:campaigns_campaign_report", args=[campaign.pk])
    ).content.decode()
    buttons = re.findall(r'<button type="submit" name="action"[^>]*>', html)
    assert len(buttons) == 2
    assert all('class="button"' in button for button in buttons)
