"""Duplicating a campaign: a new draft with its content, audiences and
settings; never its status, approval, recipients or history."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from campaigns import services
from campaigns.models import AuditEntry, Campaign

from ..factories import make_audience, make_contact
from ..report_helpers import finished_campaign

pytestmark = pytest.mark.django_db


def test_a_copy_is_a_draft_with_the_same_content_audiences_and_settings():
    original, _ = finished_campaign()
    second = make_audience(contacts=[make_contact()])
    original.audiences.add(second)
    Campaign.objects.filter(pk=original.pk).update(
        max_send_rate=7,
        fallback_time=120,
        send_window_start=dt.time(9),
        send_window_end=dt.time(21),
        message_type="ARN",
    )
    original.refresh_from_db()
    marketer = get_user_model().objects.create_user("copier")

    copy = services.campaign_duplicate(
        campaign=original, actor=services.Actor(user=marketer)
    )

    assert copy.pk != original.pk
    assert copy.name == f"Copy of {original.name}"
    assert copy.status == Campaign.Status.DRAFT
    for field in ("image", "sms_text", "viber_template", "fallback_time",
                  "sms_fallback_enabled", "sms_only", "message_type",
                  "max_send_rate", "send_window_start", "send_window_end"):  # fmt: skip
        assert getattr(copy, field) == getattr(original, field), field
    assert set(copy.audiences.all()) == set(original.audiences.all())
    assert copy.created_by == marketer
    entry = AuditEntry.objects.get(campaign=copy)
    assert entry.action == AuditEntry.Action.CREATED and original.name in entry.detail


def test_a_copy_has_no_status_approval_recipients_or_dates_of_its_original():
    original, _ = finished_campaign()
    approver = get_user_model().objects.create_user("approver")
    Campaign.objects.filter(pk=original.pk).update(
        approved_by=approver,
        approved_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        scheduled_at=dt.datetime(2026, 5, 4, tzinfo=dt.UTC),
        completed_at=dt.datetime(2026, 5, 5, tzinfo=dt.UTC),
        status_reason="Finished",
    )
    original.refresh_from_db()

    copy = services.campaign_duplicate(campaign=original, actor=services.Actor())

    assert copy.approved_by is None and copy.approved_at is None
    assert copy.recipients.count() == 0 and copy.test_sends.count() == 0
    assert (copy.started_at, copy.completed_at, copy.scheduled_at) == (None,) * 3
    assert copy.status_reason == "" and copy.follow_up_of is None
    assert original.recipients.count() == 11  # ten and a test send, untouched


def test_a_long_name_is_cut_to_fit():
    original, _ = finished_campaign()
    Campaign.objects.filter(pk=original.pk).update(name="x" * 200)
    original.refresh_from_db()

    copy = services.campaign_duplicate(campaign=original, actor=services.Actor())

    assert copy.name == ("Copy of " + "x" * 200)[:200]
