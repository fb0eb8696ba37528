"""Lost callbacks: accepted messages without a final status are asked about
(GET /v1/omnichannel/{reference_id}) and updated by the callbacks' own
never-regress merge, against the sandbox over real HTTP."""

import datetime as dt
import time

import pytest
from django.db import close_old_connections
from django.db.models import F
from django.utils import timezone

from campaigns import selectors
from campaigns.models import CallbackEvent, EngineState, Recipient
from campaigns.services import engine, sending
from campaigns.services.callbacks import (
    callback_events_reprocess,
    delivery_report_apply,
    recipient_rebuild_from_events,
    recipients_status_check,
    recipients_status_check_due,
)
from campaigns.telesign import client_from_settings
from campaigns.telesign.callbacks import parse_callback

from ...callback_helpers import delivery
from ...factories import make_audience, make_campaign, make_contact
from ...sandbox_helpers import ledger, start_sandbox, start_sandbox_calling_back
from ...test_end_to_end import EXPECTED

AFTER = 60  # STATUS_CHECK_AFTER in these tests
RS = Recipient.SendStatus


@pytest.fixture(autouse=True)
def status_checks_on(settings):
    settings.STATUS_CHECK_AFTER = AFTER
    settings.STATUS_CHECK_BATCH = 100


def sent(count: int, *, first_digit: int = 0, step: int = 1, **campaign_fields):
    """A campaign sent to the sandbox the app is pointed at, as the engine
    sends it; the numbers' last digits (the sandbox's scenarios) count up from
    `first_digit` by `step`."""
    contacts = [
        make_contact(f"+4479116{i:04d}{(first_digit + i * step) % 10}")
        for i in range(count)
    ]
    campaign = make_campaign(
        [make_audience(contacts=contacts)], max_send_rate=500, **campaign_fields
    )
    sending.campaign_launch(campaign=campaign)
    sending.campaign_send_run(campaign_id=campaign.pk, client=client_from_settings())
    return campaign


def sent_ago(campaign, seconds: float) -> None:
    """Move the campaign's sends `seconds` into the past."""
    Recipient.objects.filter(campaign=campaign).update(
        sent_at=F("sent_at") - dt.timedelta(seconds=seconds)
    )


def late(campaign) -> float:
    """Seconds after which the campaign's pending messages are due a check."""
    return campaign.fallback_time + AFTER + 1


# --- End to end: callbacks dropped, then found by asking --------------------------


@pytest.fixture
def app_and_lossy_sandbox(live_server, settings):
    sandbox = start_sandbox_calling_back(live_server.url, settings)
    sandbox.state.config.rate_callback_loss = 0.4
    yield sandbox
    sandbox.stop()


def only_lost_ones_pending(campaign, lost: set[str], timeout=30) -> set[str]:
    """Wait until every message whose callbacks were sent is final; the
    external ids still pending then."""
    deadline = time.monotonic() + timeout
    while True:
        close_old_connections()
        pending = set(
            Recipient.objects.filter(campaign=campaign, outcome="pending").values_list(
                "external_id", flat=True
            )
        )
        if pending <= lost or time.monotonic() > deadline:
            return pending
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_messages_whose_callbacks_were_lost_reach_their_final_outcome(
    app_and_lossy_sandbox,
):
    campaign = sent(30, fallback_time=30)
    entries = ledger(app_and_lossy_sandbox, full=True)["entries"]
    lost = {e["external_id"] for e in entries if e.get("callbacks_dropped")}
    assert 3 <= len(lost) <= 27
    # Without a status check, they would stay pending for good.
    assert only_lost_ones_pending(campaign, lost) == lost
    time.sleep(0.1)  # every step of every message is due (time scale 0.001)

    # Not asked before the fallback time plus STATUS_CHECK_AFTER has passed.
    assert recipients_status_check().asked == 0
    sent_ago(campaign, late(campaign))
    checks = recipients_status_check()

    assert (checks.asked, checks.found, checks.ended) == (len(lost), len(lost), 0)
    for recipient in Recipient.objects.filter(campaign=campaign):
        outcome, read = EXPECTED[int(recipient.phone[-1])]
        assert recipient.outcome == outcome, recipient.phone
        assert (recipient.read_at is not None) == read, recipient.phone
    answers = CallbackEvent.objects.filter(kind=CallbackEvent.Kind.STATUS_CHECK)
    assert answers.count() == len(lost)
    assert {e.recipient.external_id for e in answers} == lost
    for event in answers:
        assert (event.method, event.signature, event.processing) == (
            "GET",
            CallbackEvent.Signature.FETCHED,
            CallbackEvent.Processing.APPLIED,
        )
        assert event.headers == {
            "Path": f"/v1/omnichannel/{event.recipient.reference_id}"
        }
    assert ledger(app_and_lossy_sandbox)["status_requests"] == len(lost)
    # Final now: nobody is asked again.
    assert recipients_status_check().asked == 0


# --- Against the sandbox without callbacks ----------------------------------------


@pytest.mark.django_db
def test_a_stale_answer_never_regresses_a_newer_callback(settings):
    # Time scale 1: the sandbox still has the message "in progress" on Viber.
    sandbox = start_sandbox(callbacks_enabled=False, fetch_images=False, time_scale=1)
    settings.TELESIGN_SANDBOX_URL = sandbox.url
    settings.TELESIGN_CUSTOMER_ID = settings.TELESIGN_API_KEY = ""
    try:
        campaign = sent(1, first_digit=3)
        recipient = Recipient.objects.get(campaign=campaign)
        # A newer callback: Viber gave up, the SMS is on its way.
        newer = delivery(
            recipient.reference_id,
            code=3001,
            last="sms",
            at="2099-01-01 10:00:00:000",
            channels=[
                ("viber", 3056, "A" * 32, "2099-01-01 10:00:00:000"),
                ("sms", 3001, None, "2099-01-01 10:00:00:000"),
            ],
        )
        delivery_report_apply(
            event=CallbackEvent.objects.create(
                raw_body=b"{}", signature="valid", method="POST"
            ),
            report=parse_callback(newer),
        )
        before = _delivery_state(recipient)
        sent_ago(campaign, late(campaign))

        checks = recipients_status_check()
    finally:
        sandbox.stop()

    assert (checks.asked, checks.found) == (1, 1)
    answer = CallbackEvent.objects.get(kind=CallbackEvent.Kind.STATUS_CHECK)
    assert answer.status_code == 3001  # in progress, as of when it was accepted
    assert answer.processing == CallbackEvent.Processing.APPLIED
    assert _delivery_state(recipient) == before
    assert Recipient.objects.get(pk=recipient.pk).outcome == "pending"


def _delivery_state(recipient):
    fresh = Recipient.objects.get(pk=recipient.pk)
    attempts = sorted(
        (a.channel, a.status_code, a.updated_on) for a in fresh.attempts.all()
    )
    return (fresh.status_code, fresh.status_updated_on, fresh.outcome, attempts)


@pytest.fixture
def expiring_sandbox(settings):
    """The sandbox with Telesign's 12 hours scaled to 43 ms."""
    sandbox = start_sandbox(
        callbacks_enabled=False, fetch_images=False, time_scale=1e-6
    )
    settings.TELESIGN_SANDBOX_URL = sandbox.url
    settings.TELESIGN_CUSTOMER_ID = settings.TELESIGN_API_KEY = ""
    yield sandbox
    sandbox.stop()


@pytest.mark.django_db
def test_an_expired_reference_ends_the_checks_as_final_status_unknown(
    expiring_sandbox,
):
    campaign = sent(1)
    time.sleep(0.1)
    sent_ago(campaign, late(campaign))

    checks = recipients_status_check()

    assert (checks.asked, checks.found, checks.ended) == (1, 0, 1)
    recipient = Recipient.objects.get(campaign=campaign)
    assert recipient.status_check_end == Recipient.StatusCheckEnd.EXPIRED
    assert recipient.outcome == Recipient.Outcome.FAILED
    assert recipient.status_code == 3039
    assert "12 hours" in recipient.status_description
    assert recipient.failure_reason.startswith("3039 Final status unknown")
    # Never asked again, however long it waits.
    Recipient.objects.update(
        status_checked_at=F("status_checked_at") - dt.timedelta(hours=1)
    )
    assert recipients_status_check().asked == 0
    assert ledger(expiring_sandbox)["status_codes"] == {"-10004": 1}
    # A real report that still comes wins over the conclusion.
    delivered = delivery(
        recipient.reference_id,
        code=3000,
        channels=[("viber", 3000, "B" * 32, "2026-11-28 10:00:02:000")],
    )
    delivery_report_apply(
        event=CallbackEvent.objects.create(raw_body=b"{}", signature="valid"),
        report=parse_callback(delivered),
    )
    recipient.refresh_from_db()
    assert (recipient.outcome, recipient.status_code) == ("viber_delivered", 3000)


@pytest.mark.django_db
def test_a_reference_telesign_does_not_know_is_not_asked_again(sandbox):
    campaign = sent(1)
    Recipient.objects.update(reference_id="F" * 32)  # unknown to the sandbox
    sent_ago(campaign, late(campaign))

    assert recipients_status_check().ended == 1
    recipient = Recipient.objects.get(campaign=campaign)
    assert recipient.status_check_end == Recipient.StatusCheckEnd.UNKNOWN_REFERENCE
    assert "3311" in recipient.status_description
    Recipient.objects.update(
        status_checked_at=F("status_checked_at") - dt.timedelta(hours=1)
    )
    assert recipients_status_check().asked == 0
    assert ledger(sandbox)["status_codes"] == {"3311": 1}


@pytest.mark.django_db
def test_messages_older_than_telesigns_twelve_hours_end_without_asking(sandbox):
    campaign = sent(2)
    sent_ago(campaign, 13 * 3600)

    checks = recipients_status_check()

    assert (checks.asked, checks.ended) == (0, 2)
    assert ledger(sandbox)["status_requests"] == 0
    for recipient in Recipient.objects.filter(campaign=campaign):
        assert recipient.status_check_end == "expired"
        assert recipient.outcome == "failed"


@pytest.mark.django_db
def test_an_outage_stops_the_run_and_the_message_is_asked_again_later(sandbox):
    campaign = sent(6, step=0)  # all delivered on Viber: final once asked
    sent_ago(campaign, late(campaign))
    sandbox.state.config.rate_5xx = 1.0

    checks = recipients_status_check()

    # One group of requests, then no more until the next run.
    assert checks.asked == 4 and checks.found == 0
    assert checks.problem.problem == "retry_later: HTTP 503, code 3041"
    state = EngineState.objects.get(pk=1)
    assert (state.status_checks_asked, state.status_check_problem) == (
        4,
        "retry_later: HTTP 503, code 3041",
    )
    assert not Recipient.objects.exclude(outcome="pending").exists()
    # The other two at the next run; the first four after STATUS_CHECK_AFTER.
    sandbox.state.config.rate_5xx = 0.0
    assert recipients_status_check().found == 2
    assert recipients_status_check().asked == 0
    later = timezone.now() + dt.timedelta(seconds=AFTER + 1)
    assert recipients_status_check(now=later).found == 4


@pytest.mark.django_db
def test_refused_credentials_stop_the_run_and_say_so(sandbox, settings, caplog):
    campaign = sent(6)
    sent_ago(campaign, late(campaign))
    sandbox.state.config.api_key = "d3Jvbmcta2V5"

    checks = recipients_status_check()

    assert checks.asked == 4 and checks.problem.code == 3400
    assert "STATUS_CHECK_AFTER=0 stops asking" in caplog.text
    assert not Recipient.objects.exclude(outcome="pending").exists()


@pytest.mark.django_db
def test_status_check_after_zero_never_asks(sandbox, settings):
    campaign = sent(2)
    sent_ago(campaign, 13 * 3600)
    settings.STATUS_CHECK_AFTER = 0
    checks = recipients_status_check()
    assert (checks.asked, checks.ended) == (0, 0)
    assert not Recipient.objects.exclude(outcome="pending").exists()


@pytest.mark.django_db
def test_the_engine_tick_asks_and_the_timeline_and_health_show_it(sandbox):
    campaign = sent(2)  # delivered on Viber; delivered and read
    sent_ago(campaign, late(campaign))

    figures = engine.engine_tick()

    assert figures["status_checked"] == 2
    recipient = Recipient.objects.filter(campaign=campaign).first()
    steps = [s.text for s in selectors.recipient_timeline(recipient=recipient)]
    assert "Status checked with Telesign: code 3000 (Applied)" in steps
    checks = selectors.system_health()["status_checks"]
    assert (checks["asked"], checks["found"], checks["ended"]) == (2, 2, 0)
    assert checks["last_problem"] is None


@pytest.mark.django_db
def test_the_timeline_says_when_the_checks_ended(sandbox):
    campaign = sent(1)
    sent_ago(campaign, 13 * 3600)
    recipients_status_check()
    recipient = Recipient.objects.get(campaign=campaign)
    steps = [s.text for s in selectors.recipient_timeline(recipient=recipient)]
    assert (
        "Status checks ended: telesign no longer keeps its status (after 12 hours)"
        in steps
    )


@pytest.mark.django_db
def test_an_answer_reprocessed_or_replayed_stays_a_status_check(sandbox):
    campaign = sent(1)
    sent_ago(campaign, late(campaign))
    recipients_status_check()
    answer = CallbackEvent.objects.get(kind=CallbackEvent.Kind.STATUS_CHECK)

    assert callback_events_reprocess(events=[answer]) == {"applied": 1}
    recipient = recipient_rebuild_from_events(recipient=answer.recipient)

    answer.refresh_from_db()
    assert answer.kind == CallbackEvent.Kind.STATUS_CHECK
    assert recipient.outcome == "viber_delivered"


@pytest.mark.django_db
def test_a_recipient_rebuilt_from_its_events_may_be_asked_again(sandbox):
    campaign = sent(1)
    Recipient.objects.update(reference_id="F" * 32)
    sent_ago(campaign, late(campaign))
    recipients_status_check()
    recipient = Recipient.objects.get(campaign=campaign)
    assert recipient.status_check_end == "unknown_ref"

    recipient = recipient_rebuild_from_events(recipient=recipient)

    assert (recipient.outcome, recipient.status_check_end) == ("pending", "")
    later = timezone.now() + dt.timedelta(seconds=AFTER + 1)
    assert recipients_status_check(now=later).ended == 1


# --- Which messages are due a check ------------------------------------------------


@pytest.mark.django_db
def test_only_accepted_messages_without_a_final_status_long_after_fallback_are_due():
    now = timezone.now()
    viber = make_campaign(fallback_time=600)
    sms_only = make_campaign(sms_only=True, sms_text="Hi")

    def recipient(campaign, ago, **fields):
        values = {
            "send_status": RS.ACCEPTED,
            "reference_id": f"{next_ref():032X}",
            "sent_at": now - dt.timedelta(seconds=ago),
            **fields,
        }
        return Recipient.objects.create(
            campaign=campaign,
            contact=make_contact(),
            phone="+447911000000",
            external_id=f"x{values['reference_id']}",
            **values,
        )

    due = [
        recipient(viber, 600 + AFTER + 5),
        recipient(sms_only, AFTER + 5),  # no Viber leg: no fallback time to wait
        recipient(viber, 11 * 3600),
        recipient(viber, 3600, status_checked_at=now - dt.timedelta(seconds=AFTER + 1)),
    ]
    expired = [recipient(viber, 12 * 3600 + 60)]
    for ago, fields in [
        (600 + AFTER - 5, {}),  # still within fallback + STATUS_CHECK_AFTER
        (3600, {"outcome": "viber_delivered"}),
        (3600, {"outcome": "failed"}),
        (3600, {"send_status": RS.UNCONFIRMED, "reference_id": None}),
        (3600, {"status_checked_at": now - dt.timedelta(seconds=AFTER - 5)}),
        (3600, {"status_check_end": "unknown_ref", "outcome": "failed"}),
    ]:
        recipient(viber, ago, **fields)

    too_old, asked = recipients_status_check_due(now=now, limit=10)

    assert sorted(r.pk for r in asked) == sorted(r.pk for r in due)
    assert [r.pk for r in too_old] == [r.pk for r in expired]
    _, first_two = recipients_status_check_due(now=now, limit=2)
    assert len(first_two) == 2


_refs = iter(range(1, 10**6))


def next_ref() -> int:
    return next(_refs)
