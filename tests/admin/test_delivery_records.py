"""Delivery records: callbacks, refusals and recipient lists of any size."""

import pytest
from django.urls import reverse

from campaigns.admin.delivery_records import CappedCountPaginator
from campaigns.admin.report_tiles import recipients_url
from campaigns.models import CallbackEvent, Campaign, Recipient
from campaigns.telesign.codes import STATUS_CODES

from ..callback_helpers import post_callback
from ..factories import make_audience, make_campaign, make_contact

pytestmark = pytest.mark.django_db


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
    return client.get(recipients_url(campaign.pk, **filters))


def test_recipient_lists_count_no_further_than_their_cap(marketer_client, monkeypatch):
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


def test_the_status_filter_offers_families_not_every_code(marketer_client):
    campaign = launched_with(4)
    page = recipients_page(marketer_client, campaign).content.decode()
    for family in ("Delivered or read", "Pending", "Failed", "No status yet"):
        assert f">{family}</a>" in page
    assert STATUS_CODES[3056].description not in page  # not ~80 raw entries

    for family, codes in (("delivered", {3000}), ("failed", {3056})):
        listed = recipients_page(marketer_client, campaign, status=family)
        assert {r.status_code for r in listed.context["cl"].result_list} == codes
        assert listed.context["cl"].result_count == 2
    assert (
        recipients_page(marketer_client, campaign, status="pending")
        .context["cl"]
        .result_count
        == 0
    )
    wrong = recipients_page(marketer_client, campaign, status="lost")
    assert wrong.status_code == 302 and "e=1" in wrong["Location"]


def test_one_status_code_still_filters_as_the_report_links_it(marketer_client):
    campaign = launched_with(4)

    delivered = recipients_page(marketer_client, campaign, status_code__exact="3000")
    assert {r.status_code for r in delivered.context["cl"].result_list} == {3000}
    assert delivered.context["cl"].result_count == 2
    Recipient.objects.filter(campaign=campaign).update(status_code=3999)
    unknown = recipients_page(marketer_client, campaign, status_code__exact="3999")
    assert unknown.context["cl"].result_count == 4  # not in the table, still found
    wrong = recipients_page(marketer_client, campaign, status_code__exact="abc")
    assert wrong.status_code == 302 and "e=1" in wrong["Location"]
    assert Recipient.objects.filter(campaign=campaign).count() == 4


def test_callback_event_pages_show_how_often_the_same_body_came(admin_client, client):
    body = b'{"reference_id": "F", "status": {"code": 3000}}'
    for _ in range(3):
        post_callback(client, body)
    event = CallbackEvent.objects.get()
    listing = admin_client.get(reverse("admin:campaigns_callbackevent_changelist"))
    assert "column-received_count" in listing.content.decode()
    page = admin_client.get(
        reverse("admin:campaigns_callbackevent_change", args=[event.pk])
    ).content.decode()
    assert "Received count" in page
    assert '<div class="readonly">3</div>' in page
    assert "Last received at" in page


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 32_000 + b"]" * 32_000,
        b'{"reference_id": "\\ud800", "status": {"code": 3000}}',
    ],
    ids=["32k nested arrays", "lone surrogate in reference_id"],
)
def test_a_callback_that_could_not_be_read_is_shown_with_its_reason(
    admin_client, client, body
):
    assert post_callback(client, body).status_code == 400
    event = CallbackEvent.objects.get()
    page = admin_client.get(
        reverse("admin:campaigns_callbackevent_change", args=[event.pk])
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "Unexpected shape: " in text
    assert "Failed" in text
