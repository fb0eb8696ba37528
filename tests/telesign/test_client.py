"""The Telesign client: body shape, refusals before sending, every class of
result, and retries against the sandbox over real HTTP."""

import base64
import json

import pytest

from campaigns.telesign import (
    OmnichannelMessage,
    SendStatus,
    TelesignClient,
    encode_payload,
    omnichannel_payload,
)
from campaigns.telesign.client import classify_response
from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID

from ..sandbox_helpers import ledger, start_sandbox
from .examples import EXAMPLE_KEY, FIXTURES, SEED_MESSAGE


def test_body_matches_the_seed_request_field_by_field():
    seed = json.loads((FIXTURES / "seed_request.json").read_text())
    ours = omnichannel_payload(SEED_MESSAGE)
    assert ours["channels"] == seed["channels"]
    assert ours["phone_number"] == seed["phone_number"]
    assert ours["message"] == seed["message"]
    assert ours["message_type"] == seed["message_type"]
    assert ours["external_id"] == "c1-1"
    assert set(ours) == {*seed, "external_id"}


def test_without_fallback_there_is_no_sms_channel_or_content():
    message = OmnichannelMessage(**{**SEED_MESSAGE.__dict__, "sms_text": None})
    payload = omnichannel_payload(message)
    assert payload["channels"] == [{"channel": "viber", "fallback_time": 600}]
    assert "sms" not in payload["message"]


def test_sms_only_sends_one_sms_channel_and_no_viber_content():
    message = OmnichannelMessage(**{**SEED_MESSAGE.__dict__, "viber": False})
    payload = omnichannel_payload(message)
    assert payload["channels"] == [{"channel": "sms"}]
    assert payload["message"] == {
        "sms": {"template": "text", "parameters": {"text": SEED_MESSAGE.sms_text}}
    }
    refused = OmnichannelMessage(
        **{**SEED_MESSAGE.__dict__, "viber": False, "sms_text": None}
    )
    with pytest.raises(ValueError, match="needs its SMS text"):
        encode_payload(refused)


def test_callback_url_is_sent_only_when_given():
    assert "callback_url" not in omnichannel_payload(SEED_MESSAGE)
    message = OmnichannelMessage(
        **{**SEED_MESSAGE.__dict__, "callback_url": "https://x.test/cb"}
    )
    assert omnichannel_payload(message)["callback_url"] == "https://x.test/cb"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"fallback_time": 29}, 3113),
        ({"fallback_time": 3601}, 3113),
        ({"external_id": "é-not-ascii"}, 3103),
        ({"external_id": "x" * 101}, 3103),
        ({"sms_text": "x" * 11000}, 3116),
    ],
)
def test_requests_telesign_would_reject_are_refused_before_sending(change, code):
    client = TelesignClient(
        base_url="http://127.0.0.1:9", customer_id="c", api_key=EXAMPLE_KEY
    )
    result = client.send(OmnichannelMessage(**{**SEED_MESSAGE.__dict__, **change}))
    assert (result.status, result.code, result.attempts) == (
        SendStatus.REJECTED,
        code,
        0,
    )


# --- classification of answers --------------------------------------------------


def answer(code, http=200, reference_id="AB" * 16, headers=None):
    body = json.dumps(
        {"status": {"code": code, "description": "x"}, "reference_id": reference_id}
    ).encode()
    return classify_response(http, body, headers or {})


def test_3001_is_accepted_with_its_reference():
    result = answer(3001)
    assert (result.status, result.reference_id) == (SendStatus.ACCEPTED, "AB" * 16)


@pytest.mark.parametrize("code", [3102, 3103, 3113, 3116, 3300, 3302, 3304, 3399])
def test_request_validation_codes_reject_the_recipient(code):
    result = answer(code, http=400, reference_id=None)
    assert (result.status, result.code) == (SendStatus.REJECTED, code)


@pytest.mark.parametrize(("code", "http"), [(3400, 401), (3411, 401), (3206, 429)])
def test_authorisation_failures_stop_sending(code, http):
    assert answer(code, http=http).status == SendStatus.AUTH_FAILED


@pytest.mark.parametrize(("code", "http"), [(3204, 429), (3500, 503)])
def test_rate_limit_and_outage_are_retried_later(code, http):
    result = answer(code, http=http, headers={"Retry-After": "3"})
    assert (result.status, result.retry_after) == (SendStatus.RETRY_LATER, 3.0)


def test_unreadable_answers_are_classified_by_http_status():
    assert classify_response(401, b"<html>", {}).status == SendStatus.AUTH_FAILED
    assert classify_response(503, b"<html>", {}).status == SendStatus.RETRY_LATER
    assert classify_response(413, b"", {}).code == 3116
    assert classify_response(200, b"not json", {}).status == SendStatus.UNCONFIRMED
    assert classify_response(502, b"bad gateway", {}).status == SendStatus.UNCONFIRMED


# --- against the sandbox over real HTTP -----------------------------------------


@pytest.fixture
def sandbox():
    running = start_sandbox(callbacks_enabled=False, fetch_images=False)
    yield running
    running.stop()


def sandbox_client(sandbox, **options):
    return TelesignClient(
        base_url=sandbox.url,
        customer_id=SANDBOX_CUSTOMER_ID,
        api_key=SANDBOX_API_KEY,
        **{"backoff_base": 0.01, **options},
    )


@pytest.mark.parametrize("auth_method", ["basic", "digest"])
def test_both_auth_modes_are_accepted_by_the_sandbox(sandbox, auth_method):
    result = sandbox_client(sandbox, auth_method=auth_method).send(SEED_MESSAGE)
    assert result.status == SendStatus.ACCEPTED
    assert len(result.reference_id) == 32
    assert int(result.reference_id, 16) >= 0


@pytest.mark.parametrize("auth_method", ["basic", "digest"])
def test_wrong_key_is_refused_with_401(sandbox, auth_method):
    client = TelesignClient(
        base_url=sandbox.url,
        customer_id=SANDBOX_CUSTOMER_ID,
        api_key=base64.b64encode(b"wrong").decode(),
        auth_method=auth_method,
    )
    result = client.send(SEED_MESSAGE)
    assert (result.status, result.code, result.http_status) == (
        SendStatus.AUTH_FAILED,
        3400,
        401,
    )


def test_rate_limits_are_retried_with_backoff_then_given_back(sandbox):
    sandbox.state.config.rate_429 = 1.0
    result = sandbox_client(sandbox, max_attempts=3, backoff_max=0.05).send(
        SEED_MESSAGE
    )
    assert (result.status, result.code, result.attempts) == (
        SendStatus.RETRY_LATER,
        3204,
        3,
    )
    assert ledger(sandbox)["codes"] == {"3204": 3}


def test_a_retry_succeeds_once_telesign_is_back(sandbox, monkeypatch):
    client = sandbox_client(sandbox, max_attempts=4, backoff_max=0.05)
    sandbox.state.config.rate_5xx = 1.0
    real_post = client.post_omnichannel_once
    calls = []

    def heal_after_two(body):
        calls.append(1)
        if len(calls) == 3:  # two outages, then Telesign is back
            sandbox.state.config.rate_5xx = 0.0
        return real_post(body)

    monkeypatch.setattr(client, "post_omnichannel_once", heal_after_two)
    result = client.send(SEED_MESSAGE)
    assert (result.status, result.attempts) == (SendStatus.ACCEPTED, 3)
    assert ledger(sandbox)["accepted"] == 1


def test_read_timeout_after_acceptance_is_unconfirmed_and_not_retried(sandbox):
    sandbox.state.config.rate_timeout_after_accept = 1.0
    sandbox.state.config.timeout_hang_seconds = 1.0
    result = sandbox_client(sandbox, read_timeout=0.3).send(SEED_MESSAGE)
    assert (result.status, result.attempts) == (SendStatus.UNCONFIRMED, 1)
    assert ledger(sandbox)["accepted_by_external_id"] == {"c1-1": 1}


def test_connection_refused_is_retried_as_nothing_was_sent():
    client = TelesignClient(
        base_url="http://127.0.0.1:9",
        customer_id="c",
        api_key=EXAMPLE_KEY,
        max_attempts=2,
        backoff_base=0.01,
    )
    result = client.send(SEED_MESSAGE)
    assert (result.status, result.attempts) == (SendStatus.RETRY_LATER, 2)


def test_session_sends_a_user_agent_and_keeps_connections(sandbox, monkeypatch):
    client = sandbox_client(sandbox)
    client.send(SEED_MESSAGE)
    session = client._get_session()
    assert session.headers["User-Agent"].startswith("viber-campaigns/")
    assert client._get_session() is session  # reused, pooled
