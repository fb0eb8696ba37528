"""GET /v1/omnichannel/{reference_id}: a message's status in Telesign's shape,
its errors, and callbacks dropped on purpose."""

import time

import pytest
import requests

from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
from campaigns.telesign.signing import basic_auth_headers

from ..sandbox_helpers import ledger, start_sandbox
from .test_callbacks import Receiver, send

AUTH = basic_auth_headers(SANDBOX_CUSTOMER_ID, SANDBOX_API_KEY)


def status_of(sandbox, reference_id, headers=AUTH):
    return requests.get(
        f"{sandbox.url}/v1/omnichannel/{reference_id}", headers=headers, timeout=5
    )


def settled(sandbox, reference_id, code, timeout=5.0):
    """The status once its overall code is `code`."""
    deadline = time.monotonic() + timeout
    while True:
        answer = status_of(sandbox, reference_id)
        if answer.json()["status"]["code"] == code or time.monotonic() > deadline:
            return answer
        time.sleep(0.02)


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def calling_back(receiver):
    running = start_sandbox(
        callbacks_enabled=True, fetch_images=False, callback_url=receiver.url
    )
    yield running
    running.stop()


def test_the_status_is_the_last_callback_in_telesigns_get_status_shape(
    calling_back, receiver
):
    accepted = send(calling_back, "+447911123453", fallback_time=30)
    _, delivered = receiver.wait_for(2)

    answer = settled(calling_back, accepted.reference_id, 3000)

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {
        "reference_id",
        "external_id",
        "status",
        "channel_status",
        "additional_info",
    }
    assert set(body["status"]) == {"code", "description", "last_channel", "updated_on"}
    assert (body["reference_id"], body["external_id"]) == (
        accepted.reference_id,
        "c1-1",
    )
    # The same per-channel entries as the callback: Viber gave up, SMS delivered.
    assert body["channel_status"] == delivered["channel_status"]
    assert body["status"] == delivered["status"]
    assert body["status"]["last_channel"] == "sms"


def test_before_its_first_report_a_message_is_in_progress_without_channel_reference():
    sandbox = start_sandbox(callbacks_enabled=False, fetch_images=False, time_scale=1)
    try:
        accepted = send(sandbox, "+447911123450")
        body = status_of(sandbox, accepted.reference_id).json()
    finally:
        sandbox.stop()
    assert body["status"]["code"] == 3001
    assert body["status"]["last_channel"] == "viber"
    ((name, entry),) = body["channel_status"][0].items()
    assert (name, entry["code"]) == ("viber", 3001)
    assert "reference_id" not in entry


def test_a_read_message_stays_read_though_its_delivery_report_came_later(sandbox):
    # Digit 5: the read report first, then "delivered" twice.
    accepted = send(sandbox, "+447911123455")
    body = settled(sandbox, accepted.reference_id, 3005).json()
    time.sleep(0.05)
    body = status_of(sandbox, accepted.reference_id).json()
    assert body["status"]["code"] == 3005
    assert body["channel_status"][0]["viber"]["code"] == 3005


def test_dropped_callbacks_are_never_sent_but_their_status_is_known(receiver):
    sandbox = start_sandbox(
        callbacks_enabled=True,
        fetch_images=False,
        callback_url=receiver.url,
        rate_callback_loss=1.0,
    )
    try:
        accepted = send(sandbox, "+447911123452")  # no Viber, SMS delivered
        answer = settled(sandbox, accepted.reference_id, 3000)
        time.sleep(0.1)
        summary = ledger(sandbox, full=True)
    finally:
        sandbox.stop()
    assert receiver.received == []
    assert summary["callbacks_dropped"] == 1
    assert summary["entries"][0]["callbacks_dropped"] is True
    channels = [next(iter(entry)) for entry in answer.json()["channel_status"]]
    assert channels == ["viber", "sms"]
    assert answer.json()["channel_status"][0]["viber"]["code"] == 3055


def test_a_share_of_messages_loses_its_callbacks(receiver):
    sandbox = start_sandbox(
        callbacks_enabled=True,
        fetch_images=False,
        callback_url=receiver.url,
        rate_callback_loss=0.5,
    )
    try:
        for n in range(40):
            send(sandbox, f"+4479111{n:04d}0", external_id=f"c1-{n}")
        summary = ledger(sandbox, full=True)
        kept = 40 - summary["callbacks_dropped"]
        reports = receiver.wait_for(kept)
    finally:
        sandbox.stop()
    assert 5 < summary["callbacks_dropped"] < 35
    dropped = {
        e["external_id"] for e in summary["entries"] if e.get("callbacks_dropped")
    }
    assert len(dropped) == summary["callbacks_dropped"]
    assert not dropped & {report["external_id"] for report in reports}


@pytest.mark.parametrize(
    "reference_id", ["0" * 32, "NOT-A-REFERENCE", "abc", "0" * 31 + "G"]
)
def test_an_unknown_or_malformed_reference_is_3311(sandbox, reference_id):
    answer = status_of(sandbox, reference_id)
    assert answer.status_code == 400
    assert answer.json() == {
        "status": {
            "code": 3311,
            "description": "Invalid value for parameter reference_id",
        }
    }


def test_a_reference_older_than_twelve_scaled_hours_has_expired():
    # 12 hours × 1e-6 = 43 ms.
    sandbox = start_sandbox(
        callbacks_enabled=False, fetch_images=False, time_scale=1e-6
    )
    try:
        accepted = send(sandbox, "+447911123450")
        time.sleep(0.1)
        answer = status_of(sandbox, accepted.reference_id)
    finally:
        sandbox.stop()
    assert answer.status_code == 404
    assert answer.json() == {
        "status": {"code": -10004, "description": "ReferenceID expired."}
    }


def test_status_requests_need_the_sandboxs_credentials(sandbox):
    accepted = send(sandbox, "+447911123450")
    assert status_of(sandbox, accepted.reference_id, headers={}).status_code == 401
    wrong = basic_auth_headers(SANDBOX_CUSTOMER_ID, "d3Jvbmc=")
    answer = status_of(sandbox, accepted.reference_id, headers=wrong)
    assert (answer.status_code, answer.json()["status"]["code"]) == (401, 3400)


@pytest.mark.parametrize(
    ("knob", "http_status", "code"), [("rate_429", 429, 3204), ("rate_5xx", 503, 3041)]
)
def test_the_fault_knobs_apply_to_status_requests(sandbox, knob, http_status, code):
    accepted = send(sandbox, "+447911123450")
    setattr(sandbox.state.config, knob, 1.0)
    answer = status_of(sandbox, accepted.reference_id)
    assert (answer.status_code, answer.json()["status"]["code"]) == (
        http_status,
        code,
    )
    if knob == "rate_429":
        assert answer.headers["Retry-After"] == "1"
    assert ledger(sandbox)["status_codes"] == {str(code): 1}
