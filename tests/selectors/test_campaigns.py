"""Reads about campaigns: who a launch would message and how long it would
take, previews, audience sizes, send progress, who a follow-up may message
and which campaigns a comparison shows."""

import pytest
from django.utils import timezone

from campaigns import selectors, services
from campaigns.models import Campaign, Contact, Recipient
from campaigns.sms import SmsSegments

from ..factories import make_audience, make_campaign, make_contact
from ..report_helpers import at, make_recipient

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_audiences():
    """Four contacts in two overlapping audiences, one of them opted out."""
    first, second, shared, opted_out = (make_contact() for _ in range(4))
    opted_out.opted_out_at = timezone.now()
    opted_out.save()
    audiences = [
        make_audience(contacts=[first, shared, opted_out]),
        make_audience(contacts=[second, shared]),
    ]
    campaign = make_campaign(audiences=audiences)
    return campaign, (first, second, shared, opted_out)


def test_a_launch_targets_each_contact_once_and_never_an_opted_out_one(
    two_audiences,
):
    campaign, (first, second, shared, _) = two_audiences
    targeted = selectors.campaign_target_contacts(campaign=campaign)
    assert sorted(targeted.values_list("pk", flat=True)) == sorted(
        [first.pk, second.pk, shared.pk]
    )
    assert selectors.campaign_audience_summary(campaign=campaign) == {
        "contacts": 4,
        "opted_out": 1,
        "targeted": 3,
    }


def test_the_preview_is_for_the_contact_asked_for_if_targeted(two_audiences):
    campaign, (first, second, _, opted_out) = two_audiences
    preview = selectors.campaign_preview_contact
    assert preview(campaign=campaign, contact_id=second.pk) == second
    assert preview(campaign=campaign, contact_id=opted_out.pk) == first
    assert preview(campaign=campaign) == first
    assert preview(campaign=make_campaign()) is None


def test_the_preview_personalises_the_sms_for_the_contact_shown(two_audiences):
    campaign, (first, second, shared, _) = two_audiences
    Contact.objects.filter(pk=second.pk).update(name="Ann Lee")
    preview = selectors.campaign_preview(campaign=campaign, contact_id=second.pk)
    assert preview.contact == second
    assert preview.contact.name == "Ann Lee"
    assert preview.sms_text == "Hi Ann, 2 for 1 today only!"
    assert preview.sms_segments == SmsSegments("GSM-7", 27, 1, 160, characters=27)
    # The picker offers the targeted contacts, never the opted-out one.
    assert preview.sample_contacts == [first, second, shared]


def test_the_preview_without_a_contact_shows_an_empty_sms():
    preview = selectors.campaign_preview(campaign=make_campaign())
    assert preview.contact is None
    assert preview.sms_text == ""
    assert preview.sms_segments == SmsSegments("GSM-7", 0, 0, 160, characters=0)
    assert preview.sample_contacts == []


def test_the_preview_offers_at_most_twenty_contacts():
    contacts = [make_contact() for _ in range(selectors.PREVIEW_SAMPLE_CONTACTS + 1)]
    campaign = make_campaign(audiences=[make_audience(contacts=contacts)])
    preview = selectors.campaign_preview(campaign=campaign)
    assert preview.contact == contacts[0]
    assert preview.sample_contacts == contacts[:20]


def test_the_launch_estimate_counts_and_times_the_sending(two_audiences):
    campaign, _ = two_audiences
    estimate = selectors.campaign_launch_estimate(campaign=campaign)
    assert estimate == selectors.LaunchEstimate(
        contacts=4, opted_out=1, targeted=3, duration_minutes=1
    )
    big = make_campaign(
        audiences=[
            make_audience(
                contacts=Contact.objects.bulk_create(
                    Contact(phone=f"+4479112{n:05d}") for n in range(300)
                )
            )
        ],
        max_send_rate=1,
    )
    # 300 recipients at one message a second: five minutes.
    assert selectors.campaign_launch_estimate(campaign=big).duration_minutes == 5
    big.max_send_rate = 2
    assert selectors.campaign_launch_estimate(campaign=big).duration_minutes == 2
    big.max_send_rate = 1000  # well under a minute still reads "about 1 minute"
    assert selectors.campaign_launch_estimate(campaign=big).duration_minutes == 1


def test_audiences_are_listed_with_their_sizes(two_audiences):
    campaign, _ = two_audiences
    counted = {
        audience.pk: (audience.contact_count, audience.opted_out_count)
        for audience in selectors.audiences_with_counts()
    }
    first, second = campaign.audiences.order_by("pk")
    assert counted[first.pk] == (3, 1)
    assert counted[second.pk] == (2, 0)


def test_send_progress_counts_each_status_without_test_sends():
    campaign = make_campaign()
    S = Recipient.SendStatus
    for status in (S.QUEUED, S.QUEUED, S.ACCEPTED):
        make_recipient(campaign, make_contact(), send_status=status)
    Recipient.objects.create(
        campaign=campaign, phone="+15550000000", is_test=True,
        external_id="test-1", send_status=S.ACCEPTED,
    )  # fmt: skip
    progress = selectors.campaign_send_progress(campaign=campaign)
    assert progress.keys() == set(S.values)
    assert (progress[S.QUEUED], progress[S.ACCEPTED], progress[S.REJECTED]) == (
        2,
        1,
        0,
    )


def test_a_follow_up_takes_failed_and_if_asked_pending_recipients(finished):
    campaign, rows = finished
    resendable = selectors.campaign_follow_up_recipients
    failed = resendable(campaign=campaign, include_pending=False)
    assert set(failed) == {rows["failed_sms"], rows["rejected"]}
    # Still queued for sending ("queued") is never resent: it is being sent.
    with_pending = resendable(campaign=campaign, include_pending=True)
    assert set(with_pending) == {
        rows[name] for name in ("failed_sms", "rejected", "pending", "unconfirmed")
    }
    # A recipient who opted out since is never messaged again.
    Recipient.objects.filter(pk=rows["rejected"].pk).update(opted_out_at=timezone.now())
    assert set(resendable(campaign=campaign, include_pending=False)) == {
        rows["failed_sms"]
    }
    chosen = Recipient.objects.filter(pk=rows["failed_sms"].pk)
    assert list(
        resendable(campaign=campaign, include_pending=False, recipients=chosen)
    ) == [rows["failed_sms"]]


def test_a_follow_up_messages_the_members_of_its_own_audience(finished):
    campaign, _ = finished
    failed = services.campaign_follow_up_create(campaign=campaign)
    assert selectors.campaign_follow_up_size(follow_up=failed) == 2
    with_pending = services.campaign_follow_up_create(
        campaign=campaign, include_pending=True
    )
    assert selectors.campaign_follow_up_size(follow_up=with_pending) == 4


@pytest.fixture
def seven_campaigns() -> list[Campaign]:
    """Seven campaigns created a minute apart, the oldest first."""
    campaigns = [make_campaign() for _ in range(7)]
    for minutes, campaign in enumerate(campaigns):
        Campaign.objects.filter(pk=campaign.pk).update(created_at=at(60 * minutes))
    return campaigns


def test_selected_campaigns_are_compared_newest_first(seven_campaigns):
    chosen = Campaign.objects.filter(
        pk__in=[c.pk for c in (seven_campaigns[2], seven_campaigns[5])]
    )
    assert selectors.campaign_ids_newest_first(campaigns=chosen) == [
        seven_campaigns[5].pk,
        seven_campaigns[2].pk,
    ]


def test_a_comparison_shows_the_first_six_ids_named_newest_first(seven_campaigns):
    assert selectors.COMPARE_MAX == 6
    ids = [c.pk for c in seven_campaigns]
    compared = selectors.campaigns_to_compare(campaign_ids=ids)
    # The seventh id named (the newest campaign) is past the limit.
    assert compared == seven_campaigns[5::-1]
    missing = max(ids) + 1
    assert selectors.campaigns_to_compare(campaign_ids=[ids[0], missing, ids[3]]) == [
        seven_campaigns[3],
        seven_campaigns[0],
    ]
    assert selectors.campaigns_to_compare(campaign_ids=[]) == []
