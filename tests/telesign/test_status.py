"""Asking Telesign what became of a message: the client's GET, signed like its
POST, against the sandbox over real HTTP, and every class of answer."""

import json
import time

import pytest
import requests

from campaigns.telesign import StatusCheck, TelesignClient
from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
from campaigns.telesign.signing import digest_auth_headers
from campaigns.telesign.status import classify_status_answer, status_path

from ..sandbox_helpers import start_sandbox
from .examples import SEED_MESSAGE

REFERENCE = "0123456789ABCDEF0123456789ABCDEF"


def client_for(sandbox, **options) -> TelesignClient:
    return TelesignClient(
        base_url=sandbox.url,
        customer_id=SANDBOX_CUSTOMER_ID,
        api_key=options.pop("api_key", SANDBOX_API_KEY),
        **options,
    )


@pytest.mark.parametrize("auth_method", ["basic", "digest"])
def test_the_status_of_an_accepted_message_is_found(sandbox, auth_method):
    client = client_for(sandbox, auth_method=auth_method)
    accepted = client.send(SEED_MESSAGE)

    result = client.omnichannel_status(accepted.reference_id)

    assert result.outcome == StatusCheck.FOUND
    assert result.http_status == 200
    report = result.report
    assert (report.reference_id, report.external_id) == (
        accepted.reference_id,
        "c1-1",
    )
    assert report.code in (3000, 3001)
    # The raw answer is kept as Telesign sent it.
    assert json.loads(result.body)["reference_id"] == accepted.reference_id


def test_the_digest_signature_covers_the_method_and_the_path(sandbox):
    accepted = client_for(sandbox).send(SEED_MESSAGE)
    headers = digest_auth_headers(
        customer_id=SANDBOX_CUSTOMER_ID,
        api_key=SANDBOX_API_KEY,
        method="GET",
        path=status_path(REFERENCE),  # signed for another message
        body=b"",
        content_type="",
    )
    answer = requests.get(
        sandbox.url + status_path(accepted.reference_id), headers=headers, timeout=5
    )
    assert (answer.status_code, answer.json()["status"]["code"]) == (401, 3400)


@pytest.mark.parametrize("reference_id", [REFERENCE, "no such/reference"])
def test_a_reference_telesign_does_not_know_is_unknown(sandbox, reference_id):
    result = client_for(sandbox).omnichannel_status(reference_id)
    assert (result.outcome, result.code, result.http_status) == (
        StatusCheck.UNKNOWN_REFERENCE,
        3311,
        400,
    )
    assert result.report is None


def test_a_reference_older_than_twelve_hours_has_expired():
    sandbox = start_sandbox(
        callbacks_enabled=False, fetch_images=False, time_scale=1e-6
    )
    try:
        client = client_for(sandbox, auth_method="digest")
        accepted = client.send(SEED_MESSAGE)
        time.sleep(0.1)  # 12 hours × 1e-6
        result = client.omnichannel_status(accepted.reference_id)
    finally:
        sandbox.stop()
    assert (result.outcome, result.code, result.http_status) == (
        StatusCheck.EXPIRED,
        -10004,
        404,
    )


@pytest.mark.parametrize("auth_method", ["basic", "digest"])
def test_refused_credentials_are_an_auth_failure(sandbox, auth_method):
    client = client_for(sandbox, auth_method=auth_method, api_key="d3Jvbmcta2V5")
    result = client.omnichannel_status(REFERENCE)
    assert (result.outcome, result.code, result.http_status) == (
        StatusCheck.AUTH_FAILED,
        3400,
        401,
    )
    assert result.problem == "auth_failed: HTTP 401, code 3400"


@pytest.mark.parametrize(
    ("knob", "http_status", "code", "retry_after"),
    [("rate_429", 429, 3204, 1.0), ("rate_5xx", 503, 3041, None)],
)
def test_rate_limits_and_outages_mean_ask_again_later(
    sandbox, knob, http_status, code, retry_after
):
    client = client_for(sandbox)
    accepted = client.send(SEED_MESSAGE)
    setattr(sandbox.state.config, knob, 1.0)
    result = client.omnichannel_status(accepted.reference_id)
    assert (result.outcome, result.code, result.http_status) == (
        StatusCheck.RETRY_LATER,
        code,
        http_status,
    )
    assert result.retry_after == retry_after


def test_no_answer_means_ask_again_later(sandbox):
    refused = TelesignClient(
        base_url="http://127.0.0.1:9", customer_id="c", api_key=SANDBOX_API_KEY
    ).omnichannel_status(REFERENCE)
    assert refused.outcome == StatusCheck.RETRY_LATER
    sandbox.state.config.latency_ms = 500
    slow = client_for(sandbox, read_timeout=0.1).omnichannel_status(REFERENCE)
    assert slow.outcome == StatusCheck.RETRY_LATER
    assert "ReadTimeout" in slow.description


def answer(status: int, payload, headers=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return classify_status_answer(REFERENCE, status, body, headers or {})


REPORT = {
    "reference_id": REFERENCE,
    "external_id": "c1-1",
    "status": {
        "code": 3000,
        "description": "Delivered",
        "last_channel": "viber",
        "updated_on": "2024-11-12T13:12:29.551105Z",
    },
    "channel_status": [
        {
            "viber": {
                "code": 3000,
                "description": "Delivered",
                "reference_id": "364C820430640120923096E4E213053F",
                "updated_on": "2024-11-12T13:12:29.551105Z",
            }
        }
    ],
    "additional_info": {"mcc": "310", "mnc": "012"},
    "currency": "USD",
    "price": "0.0050",
}


def test_telesigns_documented_answer_is_a_delivery_report():
    result = answer(200, REPORT)
    assert result.outcome == StatusCheck.FOUND
    assert result.report.code == 3000
    assert [c.channel for c in result.report.channels] == ["viber"]


def test_an_answer_without_its_reference_is_read_as_about_the_one_asked():
    result = answer(200, {k: v for k, v in REPORT.items() if k != "reference_id"})
    assert result.outcome == StatusCheck.FOUND
    assert result.report.reference_id == REFERENCE


@pytest.mark.parametrize(
    "payload",
    [
        {**REPORT, "reference_id": "F" * 32},  # about another message
        {**REPORT, "status": "delivered"},
        {**REPORT, "channel_status": [{"viber": 3000}]},
        b"<html>OK</html>",
    ],
)
def test_an_answer_that_is_not_this_messages_status_is_unreadable(payload):
    assert answer(200, payload).outcome == StatusCheck.UNREADABLE


@pytest.mark.parametrize(
    ("status", "payload", "outcome"),
    [
        (401, {"status": {"code": 3206, "description": "not enabled"}}, "auth_failed"),
        (401, b"", "auth_failed"),
        (404, {"status": {"code": -10004}}, "expired"),
        (404, b"Not Found", "unreadable"),
        (400, {"status": {"code": 3311}}, "unknown_reference"),
        (400, {"status": {"code": 3110}}, "unreadable"),
        (502, b"Bad gateway", "retry_later"),
        (429, {"status": {"code": 3204}}, "retry_later"),
    ],
)
def test_each_error_answer_has_one_meaning(status, payload, outcome):
    assert answer(status, payload).outcome == outcome
