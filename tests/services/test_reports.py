"""Campaign reports kept fresh by the engine tick, and follow-up campaigns
to the recipients a campaign failed to reach."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import CallbackEvent, Campaign, CampaignReport, Recipient
from campaigns.services import sending

from ..factories import make_campaign
from ..report_helpers import finished_campaign

pytestmark = pytest.mark.django_db

O = Recipient.Outcome  # noqa: E741


@pytest.fixture
def finished(db):
    """Ten recipients, one per report case (see tests/report_helpers.py)."""
    return finished_campaign()


def test_resend_by_sms_takes_failed_and_pending_but_not_unsent(finished):
    campaign, rows = finished
    follow_up = services.campaign_follow_up_create(
        campaign=campaign, include_pending=True, sms_only=True
    )
    assert follow_up.sms_only and not follow_up.sms_fallback_enabled
    members = set(follow_up.audiences.get().contacts.values_list("phone", flat=True))
    assert members == {
        rows[name].phone
        for name in ("failed_sms", "rejected", "pending", "unconfirmed")
    }


def test_follow_up_launch_skips_whoever_the_original_reached_meanwhile(
    finished, sandbox
):
    campaign, rows = finished
    follow_up = services.campaign_follow_up_create(
        campaign=campaign, include_pending=True, sms_only=True
    )
    # The pending one is delivered by the original before the follow-up starts.
    Recipient.objects.filter(pk=rows["pending"].pk).update(outcome=O.VIBER_DELIVERED)
    result = sending.campaign_launch(campaign=follow_up)
    phones = set(follow_up.recipients.values_list("phone", flat=True))
    assert rows["pending"].phone not in phones
    assert result.recipients == 3


def test_engine_tick_refreshes_reports_of_sending_and_touched_campaigns(finished):
    campaign, rows = finished
    sending_campaign = make_campaign(status=Campaign.Status.SENDING)
    services.campaign_reports_refresh_due()
    assert CampaignReport.objects.filter(campaign=sending_campaign).exists()
    # A finished campaign's report is only recomputed when callbacks arrive.
    services.campaign_report_refresh(campaign=campaign)
    Recipient.objects.filter(pk=rows["pending"].pk).update(outcome=O.VIBER_DELIVERED)
    later = timezone.now() + dt.timedelta(minutes=5)
    services.campaign_reports_refresh_due(now=later)
    assert CampaignReport.objects.get(campaign=campaign).figures["viber_delivered"] == 2
    CallbackEvent.objects.create(
        method="POST",
        raw_body=b"{}",
        signature=CallbackEvent.Signature.VALID,
        recipient=rows["pending"],
    )
    services.campaign_reports_refresh_due(now=later)
    report = CampaignReport.objects.get(campaign=campaign)
    assert report.figures["viber_delivered"] == 3 and report.stale is False
