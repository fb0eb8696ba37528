"""Reconciling: unconfirmed recipients that no callback came for are sent
again with the same external id, once, and recorded; in a cancelled campaign
they are closed instead; SEND_RECONCILE_AFTER=0 keeps strict at-most-once."""

import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from campaigns import selectors
from campaigns.models import AuditEntry, CallbackEvent, Campaign, Recipient
from campaigns.services import engine, sending

from ...sandbox_helpers import ledger
from .helpers import launched, run

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus


def crashed_while_sending(campaign, count: int) -> list[Recipient]:
    """`count` recipients a worker marked in flight before it died, as the
    claims' recovery finds them: unconfirmed, dated when they left."""
    claimed = sending.recipients_claim(campaign=campaign, worker_id="dead", limit=count)
    sending.recipients_mark_in_flight(
        campaign_id=campaign.pk, ids=[r.id for r in claimed], worker_id="dead"
    )
    sending.claims_expire(older_than=0)
    return list(Recipient.objects.filter(send_status=RS.UNCONFIRMED))


def sent_ago(seconds: float) -> None:
    Recipient.objects.filter(send_status=RS.UNCONFIRMED).update(
        sent_at=F("sent_at") - dt.timedelta(seconds=seconds)
    )


def test_unconfirmed_recipients_without_callbacks_are_sent_again_once(
    sandbox, settings
):
    settings.SEND_RECONCILE_AFTER = 30
    campaign = launched(5)
    lost = crashed_while_sending(campaign, 2)
    assert len(lost) == 2 and all(r.sent_at for r in lost)
    # The others are sent; the campaign waits for the two in doubt.
    run(campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENDING

    assert sending.recipients_reconcile().resent == 0  # not 30 s yet
    sent_ago(31)
    assert sending.recipients_reconcile().resent == 2
    again = Recipient.objects.filter(pk__in=[r.pk for r in lost])
    assert {(r.send_status, r.reconciled_at is not None) for r in again} == {
        (RS.QUEUED, True)
    }
    entry = AuditEntry.objects.get(action=AuditEntry.Action.RECONCILED)
    assert entry.campaign_id == campaign.pk and "2 unconfirmed" in entry.detail

    run(campaign)
    seen = ledger(sandbox)["accepted_by_external_id"]
    assert len(seen) == 5 and set(seen.values()) == {1}
    assert {r.external_id for r in lost} <= set(seen)  # same external ids
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED
    figures = selectors.campaign_report_figures(campaign=campaign)
    assert figures.reconciled == 2
    timeline = selectors.recipient_timeline(recipient=again.first())
    assert any("Sent again (reconciled)" in step.text for step in timeline)
    assert sending.recipients_reconcile().resent == 0  # nothing left in doubt


def test_a_callback_about_an_unconfirmed_recipient_keeps_it_from_being_resent(
    sandbox, settings
):
    settings.SEND_RECONCILE_AFTER = 30
    campaign = launched(3)
    lost = crashed_while_sending(campaign, 2)
    # Telesign did have the first: a callback carrying its external id came
    # (stored, not applied yet).
    CallbackEvent.objects.create(
        method="POST",
        raw_body=b"{}",
        headers={},
        signature=CallbackEvent.Signature.VALID,
        processing=CallbackEvent.Processing.RECEIVED,
        external_id=lost[0].external_id,
    )
    sent_ago(31)
    assert sending.recipients_reconcile().resent == 1
    assert Recipient.objects.get(pk=lost[0].pk).send_status == RS.UNCONFIRMED
    assert Recipient.objects.get(pk=lost[1].pk).send_status == RS.QUEUED


def test_in_a_cancelled_campaign_they_are_closed_not_sent(sandbox, settings):
    settings.SEND_RECONCILE_AFTER = 30
    campaign = launched(3)
    lost = crashed_while_sending(campaign, 1)[0]
    sending.campaign_cancel(campaign=campaign)
    sent_ago(31)
    done = sending.recipients_reconcile()
    assert (done.resent, done.closed) == (0, 1)
    lost.refresh_from_db()
    assert lost.send_status == RS.UNCONFIRMED
    assert lost.outcome != Recipient.Outcome.PENDING
    assert lost.status_code == 3039 and "not sent again" in lost.status_description
    assert ledger(sandbox)["accepted"] == 0
    figures = selectors.campaign_report_figures(campaign=campaign)
    assert figures.pending == figures.unconfirmed == 0


def test_zero_means_never_resend_and_the_campaign_completes(sandbox, settings):
    settings.SEND_RECONCILE_AFTER = 0
    campaign = launched(3)
    crashed_while_sending(campaign, 1)
    run(campaign)
    sent_ago(10**6)
    assert sending.recipients_reconcile().resent == 0
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED
    assert ledger(sandbox)["accepted"] == 2


def test_by_default_they_wait_for_the_fallback_time_and_the_sms_report(settings):
    settings.SEND_RECONCILE_AFTER = None
    settings.RECONCILE_SMS_REPORT_MARGIN = 900
    campaign = launched(1, fallback_time=600)
    assert sending.reconcile_wait(campaign) == dt.timedelta(seconds=1500)
    campaign.sms_only = True
    assert sending.reconcile_wait(campaign) == dt.timedelta(seconds=900)


def test_the_engine_tick_reconciles(sandbox, settings):
    settings.SEND_RECONCILE_AFTER = 30
    campaign = launched(2)
    crashed_while_sending(campaign, 2)
    sent_ago(31)
    assert engine.engine_tick(now=timezone.now())["reconciled"] == 2
