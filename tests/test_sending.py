"""The sending engine against a real database and the sandbox over HTTP."""

import datetime as dt
import json
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.models import Campaign, Recipient
from campaigns.services import DomainError, sending
from campaigns.telesign import SendStatus, client_from_settings
from campaigns.telesign.client import classify_response

from .factories import make_audience, make_campaign, make_contact
from .sandbox_helpers import ledger

pytestmark = pytest.mark.django_db
RS = Recipient.SendStatus


def audience_of(count: int, start: int = 0, **contact_fields):
    contacts = [
        make_contact(f"+4479111{start + i:05d}", name=f"Person {i}", **contact_fields)
        for i in range(count)
    ]
    return make_audience(contacts=contacts)


def fast_client(**options):
    return client_from_settings(backoff_base=0.01, backoff_max=0.05, **options)


def run(campaign, **options):
    options.setdefault("client", fast_client())
    return sending.campaign_send_run(campaign_id=campaign.pk, **options)


# --- launch ---------------------------------------------------------------------


def test_launch_materialises_once_per_contact_with_suppressions():
    shared = make_contact("+447911000001")
    opted_out = make_contact("+447911000002", opted_out_at=timezone.now())
    first = make_audience(contacts=[shared, opted_out, make_contact("+447911000003")])
    second = make_audience(contacts=[shared, make_contact("+447911000004")])
    campaign = make_campaign([first, second])

    result = sending.campaign_launch(campaign=campaign)

    assert (result.recipients, result.suppressed, result.duplicates) == (4, 1, 1)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert campaign.audience_duplicates == 1
    suppressed = Recipient.objects.get(contact=opted_out)
    assert (suppressed.outcome, suppressed.suppression_reason) == (
        "suppressed",
        "opted_out",
    )
    assert suppressed.send_status == RS.SKIPPED
    queued = Recipient.objects.filter(campaign=campaign, send_status=RS.QUEUED)
    assert queued.count() == 3
    for recipient in queued:
        assert recipient.external_id == f"c{campaign.pk}-{recipient.contact_id:010d}"
        assert recipient.phone == recipient.contact.phone


@pytest.mark.django_db(transaction=True)
def test_a_large_launch_is_materialised_by_parallel_connections_exactly_once(
    settings,
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has a single writer (CI runs it there)")
    settings.LAUNCH_PARALLEL_MIN_CONTACTS = 1
    settings.LAUNCH_PARALLELISM = 3
    contacts = [make_contact(f"+4479112{i:05d}") for i in range(40)] + [
        make_contact(f"+4479113{i:05d}", opted_out_at=timezone.now()) for i in range(10)
    ]
    first = make_audience(contacts=contacts[:40])
    second = make_audience(contacts=contacts[30:])  # 10 shared, 10 opted out
    campaign = make_campaign([first, second])
    ranges = sending._materialise_ranges(campaign=campaign)
    assert len(ranges) == 3
    assert (ranges[0][0], ranges[-1][1]) == (contacts[0].pk, contacts[-1].pk)

    result = sending.campaign_launch(campaign=campaign)

    assert (result.recipients, result.suppressed, result.duplicates) == (50, 10, 10)
    rows = Recipient.objects.filter(campaign=campaign)
    assert rows.values("contact").distinct().count() == 50
    # Materialising again (a relaunch after a crash) adds nothing.
    counts = sending.recipients_materialise(campaign=campaign, now=timezone.now())
    assert counts["recipients"] == 50


def test_launching_twice_creates_nothing_twice():
    campaign = make_campaign([audience_of(3)])
    sending.campaign_launch(campaign=campaign)
    with pytest.raises(DomainError, match="only a draft or scheduled"):
        sending.campaign_launch(campaign=campaign)
    assert Recipient.objects.filter(campaign=campaign).count() == 3


def test_launch_lists_what_is_missing():
    campaign = make_campaign([])
    with pytest.raises(DomainError, match="at least one audience"):
        sending.campaign_launch(campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT


def test_launch_with_real_telesign_needs_an_https_image(settings):
    settings.TELESIGN_CUSTOMER_ID, settings.TELESIGN_API_KEY = "cid", "a2V5"
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    campaign = make_campaign([audience_of(1)])
    with pytest.raises(DomainError, match="https only"):
        sending.campaign_launch(campaign=campaign)


def test_scheduled_campaign_starts_on_time_without_a_click():
    soon = timezone.now() + dt.timedelta(minutes=5)
    campaign = make_campaign([audience_of(2)], scheduled_at=soon)
    assert sending.campaign_launch(campaign=campaign).scheduled
    assert Recipient.objects.filter(campaign=campaign).count() == 0

    sending.engine_tick(now=soon - dt.timedelta(seconds=1))
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SCHEDULED

    assert sending.engine_tick(now=soon + dt.timedelta(seconds=1))["started"] == 1
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENDING
    assert Recipient.objects.filter(campaign=campaign).count() == 2


# --- sending --------------------------------------------------------------------


def test_end_to_end_every_recipient_gets_a_reference_exactly_once(sandbox):
    campaign = make_campaign([audience_of(300)], max_send_rate=1000)
    sending.campaign_launch(campaign=campaign)

    summary = run(campaign)

    assert summary.accepted == 300
    recipients = Recipient.objects.filter(campaign=campaign)
    assert recipients.filter(send_status=RS.ACCEPTED).count() == 300
    references = set(recipients.values_list("reference_id", flat=True))
    assert len(references) == 300
    assert all(len(r) == 32 and int(r, 16) >= 0 for r in references)
    seen = ledger(sandbox)["accepted_by_external_id"]
    assert set(seen) == set(recipients.values_list("external_id", flat=True))
    assert set(seen.values()) == {1}
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED


def test_personalised_sms_and_image_url_reach_telesign(sandbox):
    campaign = make_campaign([audience_of(1)], sms_text="Hi {first_name}!")
    sending.campaign_launch(campaign=campaign)
    captured = []
    client = fast_client()
    real = client.post_omnichannel_once
    client.post_omnichannel_once = lambda body: captured.append(body) or real(body)
    run(campaign, client=client)

    sent = json.loads(captured[0])
    assert sent["message"]["sms"]["parameters"]["text"] == "Hi Person!"
    assert sent["message"]["viber"]["parameters"]["url"] == campaign.image.public_url
    assert sent["phone_number"] == "447911100000"  # digits only, no "+"


def test_rate_limit_holds_within_one_worker(sandbox):
    campaign = make_campaign([audience_of(25)], max_send_rate=10)
    sending.campaign_launch(campaign=campaign)
    run(campaign)
    times = sorted(e["at"] for e in ledger(sandbox, full=True)["entries"])
    assert len(times) == 25
    busiest = max(sum(1 for t in times if s <= t < s + 1.0) for s in times)
    assert busiest <= 10
    assert times[-1] - times[0] >= 2.0  # 25 sends at 10/s take at least 2.4 s


@pytest.mark.django_db(transaction=True)
def test_pause_takes_effect_within_seconds_and_resume_finishes(sandbox):
    sandbox.state.config.latency_ms = 20
    campaign = make_campaign([audience_of(80)], max_send_rate=20)
    sending.campaign_launch(campaign=campaign)

    def work():
        try:
            run(campaign)
        finally:
            connection.close()  # a thread's connection would outlive the test

    worker = threading.Thread(target=work)
    worker.start()
    time.sleep(1.0)
    sending.campaign_pause(campaign=campaign)
    paused_at = time.monotonic()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - paused_at < 3
    sent_while_running = ledger(sandbox)["accepted"]
    assert 5 <= sent_while_running < 80
    queued = Recipient.objects.filter(campaign=campaign, send_status=RS.QUEUED)
    assert queued.count() == 80 - sent_while_running
    assert not Recipient.objects.filter(
        campaign=campaign, send_status__in=[RS.CLAIMED, RS.IN_FLIGHT]
    ).exists()

    sending.campaign_resume(campaign=campaign)
    run(campaign)
    seen = ledger(sandbox)["accepted_by_external_id"]
    assert len(seen) == 80 and set(seen.values()) == {1}
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED


def test_cancel_marks_unsent_recipients_and_stops(sandbox):
    campaign = make_campaign([audience_of(5)])
    sending.campaign_launch(campaign=campaign)
    sending.campaign_cancel(campaign=campaign)
    assert run(campaign).sent == 0
    assert set(
        Recipient.objects.filter(campaign=campaign).values_list("outcome", flat=True)
    ) == {"cancelled"}
    with pytest.raises(DomainError, match="cancelled"):
        sending.campaign_resume(campaign=campaign)


def test_refused_credentials_pause_the_campaign_with_a_clear_reason(sandbox):
    campaign = make_campaign([audience_of(5)])
    sending.campaign_launch(campaign=campaign)
    summary = run(campaign, client=fast_client(api_key="d3Jvbmc="))
    campaign.refresh_from_db()
    assert summary.stopped_because == "credentials refused"
    assert campaign.status == Campaign.Status.PAUSED
    assert "refused the credentials" in campaign.status_reason
    assert "TELESIGN_API_KEY" in campaign.status_reason
    assert ledger(sandbox)["accepted"] == 0
    assert (
        Recipient.objects.filter(campaign=campaign, send_status=RS.QUEUED).count() == 5
    )


def test_validation_errors_fail_the_recipient_and_are_never_retried(sandbox, settings):
    settings.AUTO_PAUSE_MIN_SENDS = 1000
    campaign = make_campaign([audience_of(3)])
    sending.campaign_launch(campaign=campaign)
    client = fast_client()
    body = b'{"status":{"code":3101,"description":"Invalid phone_number"}}'
    calls = []
    client.post_omnichannel_once = lambda _: (
        calls.append(1) or classify_response(400, body, {})
    )
    run(campaign, client=client)
    assert len(calls) == 3
    failed = Recipient.objects.filter(campaign=campaign)
    assert set(failed.values_list("outcome", "send_status", "status_code")) == {
        ("failed", "rejected", 3101)
    }
    assert failed.first().failure_reason == "3101 Invalid phone_number"


def test_auto_pause_when_recent_failures_pass_the_threshold(sandbox, settings):
    settings.AUTO_PAUSE_MIN_SENDS = 10
    settings.AUTO_PAUSE_FAILURE_RATE = 0.5
    campaign = make_campaign([audience_of(60)], max_send_rate=1000)
    sending.campaign_launch(campaign=campaign)
    client = fast_client()
    body = b'{"status":{"code":3102,"description":"Invalid message_type"}}'
    client.post_omnichannel_once = lambda _: (
        time.sleep(0.05) or classify_response(400, body, {})
    )
    run(campaign, client=client, concurrency=4)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.status_reason.startswith("Auto-paused:")
    assert "3102 Invalid message_type" in campaign.status_reason
    assert Recipient.objects.filter(campaign=campaign, send_status=RS.QUEUED).exists()


def test_outage_is_retried_later_and_then_delivered(sandbox):
    sandbox.state.config.rate_5xx = 1.0
    campaign = make_campaign([audience_of(4)])
    sending.campaign_launch(campaign=campaign)
    run(campaign, client=fast_client(max_attempts=2))
    waiting = Recipient.objects.filter(campaign=campaign, send_status=RS.QUEUED)
    assert waiting.count() == 4
    assert all(r.next_attempt_at > timezone.now() for r in waiting)
    assert all(r.send_attempts == 2 for r in waiting)

    sandbox.state.config.rate_5xx = 0.0
    waiting.update(next_attempt_at=timezone.now())
    run(campaign)
    assert (
        Recipient.objects.filter(campaign=campaign, send_status=RS.ACCEPTED).count()
        == 4
    )


def test_retries_stop_after_the_configured_attempts(sandbox, settings):
    settings.SEND_MAX_ATTEMPTS = 2
    sandbox.state.config.rate_429 = 1.0
    campaign = make_campaign([audience_of(1)])
    sending.campaign_launch(campaign=campaign)
    run(campaign, client=fast_client(max_attempts=1))
    Recipient.objects.filter(campaign=campaign).update(next_attempt_at=None)
    run(campaign, client=fast_client(max_attempts=1))
    recipient = Recipient.objects.get(campaign=campaign)
    assert (recipient.send_status, recipient.outcome) == (RS.REJECTED, "failed")
    assert "after 2 attempts" in recipient.failure_reason


def test_timeout_after_acceptance_is_unconfirmed_and_never_resent(sandbox):
    sandbox.state.config.rate_timeout_after_accept = 1.0
    sandbox.state.config.timeout_hang_seconds = 0.6
    campaign = make_campaign([audience_of(3)])
    sending.campaign_launch(campaign=campaign)
    run(campaign, client=fast_client(read_timeout=0.2))
    run(campaign, client=fast_client(read_timeout=0.2))
    recipients = Recipient.objects.filter(campaign=campaign)
    assert set(recipients.values_list("send_status", flat=True)) == {RS.UNCONFIRMED}
    assert set(ledger(sandbox)["accepted_by_external_id"].values()) == {1}
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.COMPLETED


def test_claims_of_a_dead_worker_are_recovered():
    campaign = make_campaign([audience_of(2)])
    sending.campaign_launch(campaign=campaign)
    claimed, in_flight = Recipient.objects.filter(campaign=campaign).order_by("id")
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Recipient.objects.filter(pk=claimed.pk).update(
        send_status=RS.CLAIMED, claimed_by="dead", claimed_at=long_ago
    )
    Recipient.objects.filter(pk=in_flight.pk).update(
        send_status=RS.IN_FLIGHT, claimed_by="dead", claimed_at=long_ago
    )
    assert sending.claims_expire() == (1, 1)
    claimed.refresh_from_db()
    in_flight.refresh_from_db()
    assert (claimed.send_status, claimed.claimed_by) == (RS.QUEUED, "")
    assert in_flight.send_status == RS.UNCONFIRMED


def test_two_workers_never_claim_the_same_recipient():
    campaign = make_campaign([audience_of(10)])
    sending.campaign_launch(campaign=campaign)
    first = sending.recipients_claim(campaign=campaign, worker_id="a", limit=6)
    second = sending.recipients_claim(campaign=campaign, worker_id="b", limit=6)
    assert len(first) == 6 and len(second) == 4
    assert not {r.id for r in first} & {r.id for r in second}


def test_quiet_hours_hold_recipients_until_their_local_window(sandbox):
    london = make_contact("+447911000001")
    new_york = make_contact("+12125550123")
    now = timezone.now()
    local = now.astimezone(ZoneInfo("Europe/London"))
    start = (local - dt.timedelta(minutes=30)).time().replace(second=0, microsecond=0)
    end = (local + dt.timedelta(minutes=90)).time().replace(second=0, microsecond=0)
    if start > end:
        pytest.skip("window would cross midnight in London right now")
    campaign = make_campaign(
        [make_audience(contacts=[london, new_york])],
        send_window_start=start,
        send_window_end=end,
    )
    sending.campaign_launch(campaign=campaign)
    run(campaign)
    sent = Recipient.objects.get(contact=london)
    held = Recipient.objects.get(contact=new_york)
    assert sent.send_status == RS.ACCEPTED
    assert held.send_status == RS.QUEUED
    opens_local = held.next_attempt_at.astimezone(ZoneInfo("America/New_York"))
    assert opens_local.time() == start
    assert held.next_attempt_at > now


def test_test_send_is_recorded_but_not_part_of_the_campaign(sandbox):
    campaign = make_campaign([audience_of(2)])
    results = sending.campaign_test_send(
        campaign=campaign, phones=["07911 123001", "+447911123002"]
    )
    assert [r.result.status for r in results] == [SendStatus.ACCEPTED] * 2
    tests = Recipient.objects.filter(campaign=campaign, is_test=True)
    assert tests.count() == 2
    assert all(t.reference_id for t in tests)
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    sending.campaign_launch(campaign=campaign)
    assert Recipient.objects.filter(campaign=campaign, is_test=False).count() == 2


def test_test_send_refuses_bad_numbers_and_too_many(sandbox):
    campaign = make_campaign([audience_of(1)])
    with pytest.raises(DomainError, match="not a valid phone number"):
        sending.campaign_test_send(campaign=campaign, phones=["12"])
    with pytest.raises(DomainError, match="at most 5"):
        sending.campaign_test_send(
            campaign=campaign, phones=[f"+4479111230{i:02d}" for i in range(6)]
        )
    assert not Recipient.objects.filter(is_test=True).exists()


def test_test_send_refuses_content_telesign_cannot_send(settings):
    settings.TELESIGN_CUSTOMER_ID, settings.TELESIGN_API_KEY = "cid", "a2V5"
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    campaign = make_campaign([])  # no audience: a test send does not need one
    with pytest.raises(DomainError, match="https only"):
        sending.campaign_test_send(campaign=campaign, phones=["+447911123001"])
    assert not Recipient.objects.filter(is_test=True).exists()
