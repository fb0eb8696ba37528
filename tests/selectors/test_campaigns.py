"""Reads about campaigns: who a launch would message, previews, audience
sizes, send progress and who a follow-up may message."""

import pytest
from django.utils import timezone

from campaigns import selectors
from campaigns.models import Recipient

from ..factories import make_audience, make_campaign, make_contact
from ..report_helpers import make_recipient

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
