"""CALLBACK_APPLY=deferred: the request stores the event (one INSERT) and
workers apply stored events in batches — to the same final state as applying
each at once, whatever the order, duplication or batch boundaries."""

import json
import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import strategies as st

from campaigns.api.views import callback_answer
from campaigns.models import CallbackEvent, ChannelAttempt, Recipient
from campaigns.services import sending
from campaigns.services.callbacks import (
    apply,
    batch,
    callback_events_apply_batch,
    callback_receive,
    callback_store,
    callbacks_apply_pending,
    merge,
)

from ...callback_helpers import (
    SEED,
    delivery,
    fallback_sequence,
    final_state,
    for_every_order_and_duplication,
    in_order_and_shuffled,
    make_recipient,
    new_reference,
    post_callback,
    store,
    viber_reply,
)
from ...factories import make_campaign, make_contact
from ...workers import start_run_worker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def deferred(settings):
    settings.CALLBACK_APPLY = "deferred"


def test_the_request_only_stores_and_the_batch_applies_the_seed_callback(client):
    seed = json.loads(SEED.read_text())
    recipient = make_recipient(reference_id=seed["reference_id"])
    answer = post_callback(client, seed)
    assert answer.status_code == 200
    assert answer.json() == {"stored": True, "applied": False}
    event = CallbackEvent.objects.get()
    assert event.processing == CallbackEvent.Processing.RECEIVED
    assert event.reference_id == seed["reference_id"]
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.PENDING  # not applied yet

    assert callbacks_apply_pending() == 1
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.SMS_DELIVERED
    codes = dict(recipient.attempts.values_list("channel", "status_code"))
    assert codes == {"viber": 3056, "sms": 3000}
    event.refresh_from_db()
    assert event.processing == CallbackEvent.Processing.APPLIED
    assert event.recipient == recipient


def test_an_unconfirmed_recipient_is_known_by_its_external_id(client):
    recipient = make_recipient(send_status=Recipient.SendStatus.UNCONFIRMED)
    answer = post_callback(
        client, delivery(None, code=3000, external_id=recipient.external_id)
    )
    assert answer.status_code == 200
    callbacks_apply_pending()
    recipient.refresh_from_db()
    assert recipient.send_status == Recipient.SendStatus.ACCEPTED


def test_a_stop_reply_is_applied_by_the_batch(client):
    contact = make_contact("+447911123456")
    assert post_callback(client, viber_reply("447911123456", "Stop")).status_code == 200
    callbacks_apply_pending()
    contact.refresh_from_db()
    assert contact.opted_out_at is not None


@for_every_order_and_duplication
def test_batches_give_the_same_final_state_as_applying_at_once(sequence, data):
    expected, recipient, shuffled = in_order_and_shuffled(sequence, data)
    for payload in shuffled:
        store(payload)
    # Any batch size: all in one batch, or split across several.
    size = data.draw(st.integers(min_value=1, max_value=len(shuffled)))
    while callback_events_apply_batch(limit=size):
        pass
    assert final_state(recipient) == expected


def test_a_batch_costs_the_same_queries_whatever_its_size():
    campaign = make_campaign()

    def batch_of(count: int) -> int:
        for _ in range(count):
            recipient = make_recipient(campaign=campaign, reference_id=new_reference())
            for payload in fallback_sequence(recipient.reference_id):
                store(payload)
        with CaptureQueriesContext(connection) as queries:
            assert callback_events_apply_batch(limit=1000) == count * 2
        return len(queries)

    assert batch_of(5) == batch_of(40)
    assert (
        Recipient.objects.filter(outcome=Recipient.Outcome.SMS_DELIVERED).count() == 45
    )


def test_a_batch_of_duplicates_rewrites_no_recipient_and_no_attempt():
    recipient = make_recipient(reference_id=new_reference())
    for payload in fallback_sequence(recipient.reference_id):
        store(payload)
    callbacks_apply_pending()
    state = final_state(recipient)
    for payload in fallback_sequence(recipient.reference_id):
        store(payload)  # Telesign sending everything again: only counted
        # The same reports in other bytes are stored, and applied as duplicates.
        callback_store(
            method="POST",
            headers={},
            body=json.dumps(payload, separators=(",", ":")).encode(),
            signature="valid",
        )

    with CaptureQueriesContext(connection) as queries:
        assert callback_events_apply_batch() == 2
    writes = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    tables = {ChannelAttempt._meta.db_table, Recipient._meta.db_table}
    assert not [sql for sql in writes if any(t in sql for t in tables)]
    assert final_state(recipient) == state
    assert set(CallbackEvent.objects.values_list("processing", flat=True)) == {
        "applied"
    }


def test_one_broken_event_does_not_hold_up_the_batch(monkeypatch):
    good = make_recipient(reference_id=new_reference())
    bad = make_recipient(reference_id=new_reference())
    for recipient in (good, bad):
        store(delivery(recipient.reference_id, code=3000, channels=[
            ("viber", 3000, "V" + recipient.reference_id, "2026-11-28 10:00:00.000")
        ]))  # fmt: skip
    real_merge = merge.report_merge

    def failing_for_bad(*, recipient, attempts, report):
        if report.reference_id == bad.reference_id:
            raise RuntimeError("cannot merge this one")
        return real_merge(recipient=recipient, attempts=attempts, report=report)

    # Both the batch and the one-by-one applying merge through merge.report_merge.
    monkeypatch.setattr(merge, "report_merge", failing_for_bad)
    assert callback_events_apply_batch() == 2
    states = dict(CallbackEvent.objects.values_list("reference_id", "processing"))
    assert states == {good.reference_id: "applied", bad.reference_id: "failed"}
    good.refresh_from_db()
    assert good.outcome == Recipient.Outcome.VIBER_DELIVERED
    assert (
        "cannot merge this one"
        in CallbackEvent.objects.get(reference_id=bad.reference_id).error
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["deferred", "inline"])
def test_an_orphan_whose_send_answer_is_stored_meanwhile_is_applied(
    mode, settings, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite runs one writer at a time (CI runs it)")
    settings.CALLBACK_APPLY = mode
    # Sent; Telesign's callback came before its answer was stored.
    recipient = make_recipient(send_status=Recipient.SendStatus.IN_FLIGHT)
    reference = new_reference()
    payload = delivery(reference, code=3000, channels=[
        ("viber", 3000, "V" + reference[1:], "2026-11-28 10:00:02.000")
    ])  # fmt: skip

    answer_stored = threading.Event()

    def sender():  # another worker, on its own connection
        try:
            Recipient.objects.filter(pk=recipient.pk).update(
                reference_id=reference, send_status=Recipient.SendStatus.ACCEPTED
            )
            # Too early to see the orphan: the callback's side has not committed.
            sending.orphans_for_references_apply(references=[reference])
        finally:
            connection.close()

    def then_the_answer_is_stored(looks_for_the_recipient):
        def patched(*args, **kwargs):
            found = looks_for_the_recipient(*args, **kwargs)  # none the first time
            if not answer_stored.is_set():
                answer_stored.set()
                thread = threading.Thread(target=sender)
                thread.start()
                thread.join()
            return found

        return patched

    if mode == "deferred":
        monkeypatch.setattr(
            batch,
            "_deliveries_apply",
            then_the_answer_is_stored(batch._deliveries_apply),
        )
        store(payload)
        assert callback_events_apply_batch() == 1
    else:
        monkeypatch.setattr(
            apply,
            "_find_recipient",
            then_the_answer_is_stored(apply._find_recipient),
        )
        received = callback_receive(
            method="POST",
            headers={},
            body=json.dumps(payload).encode(),
            signature="valid",
        )
        answer = callback_answer(received)
        assert (answer.status_code, answer.data) == (
            200,
            {"stored": True, "applied": True},
        )

    event = CallbackEvent.objects.get()
    assert (event.processing, event.recipient_id) == ("applied", recipient.pk)
    recipient.refresh_from_db()
    assert recipient.outcome == Recipient.Outcome.VIBER_DELIVERED


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_run_worker_applies_stored_callbacks_within_seconds(client):
    recipient = make_recipient(reference_id=new_reference())
    post_callback(
        client,
        delivery(recipient.reference_id, code=3000, channels=[
            ("viber", 3000, "V" + recipient.reference_id, "2026-11-28 10:00:00.000")
        ]),
    )  # fmt: skip
    worker = start_run_worker(CALLBACK_APPLY="deferred", CALLBACK_APPLY_INTERVAL="0.2")
    try:
        deadline = time.monotonic() + 30
        while not Recipient.objects.filter(
            pk=recipient.pk, outcome=Recipient.Outcome.VIBER_DELIVERED
        ).exists():
            assert time.monotonic() < deadline, "the worker did not apply it"
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert ChannelAttempt.objects.get(recipient=recipient).status_code == 3000
