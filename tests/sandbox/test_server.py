"""The sandbox's test knobs and its bookkeeping, over HTTP."""

import requests

from campaigns.telesign import TelesignClient
from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID

from ..sandbox_helpers import ledger
from ..telesign.examples import SEED_MESSAGE


def get(sandbox, path):
    return requests.get(sandbox.url + path, timeout=5)


def post(sandbox, path, **kwargs):
    return requests.post(sandbox.url + path, timeout=5, **kwargs)


def send(sandbox, **options):
    return TelesignClient(
        base_url=sandbox.url,
        customer_id=SANDBOX_CUSTOMER_ID,
        api_key=SANDBOX_API_KEY,
        **options,
    ).send(SEED_MESSAGE)


def test_health_and_unknown_paths(sandbox):
    assert get(sandbox, "/health").json() == {"ok": True}
    assert get(sandbox, "/nowhere").status_code == 404
    assert post(sandbox, "/nowhere").status_code == 404


def test_config_is_shown_without_the_api_key_and_changed_by_name(sandbox):
    shown = get(sandbox, "/sandbox/config").json()
    assert "api_key" not in shown
    assert shown["customer_id"] == SANDBOX_CUSTOMER_ID
    assert post(sandbox, "/sandbox/config", json={"latency_ms": 5}).json() == {
        "ok": True
    }
    assert sandbox.state.config.latency_ms == 5


def test_credentials_and_unknown_knobs_cannot_be_changed(sandbox):
    for change in ({"api_key": "x"}, {"customer_id": "x"}, {"colour": "red"}):
        response = post(sandbox, "/sandbox/config", json=change)
        assert response.status_code == 400
        assert response.json()["error"].startswith("bad config")
    assert post(sandbox, "/sandbox/config", data=b"[1]").status_code == 400
    assert sandbox.state.config.api_key == SANDBOX_API_KEY


def test_the_ledger_counts_every_request_and_reset_forgets_them(sandbox):
    assert send(sandbox).reference_id
    post(sandbox, "/v1/omnichannel", data=b"{}")  # no credentials: 3405
    summary = ledger(sandbox, full=True)
    assert (summary["requests"], summary["accepted"]) == (2, 1)
    assert summary["codes"] == {"3001": 1, "3405": 1}
    assert summary["accepted_by_external_id"] == {"c1-1": 1}
    accepted, refused = summary["entries"]
    assert (accepted["phone"], accepted["http_status"]) == ("15558675309", 200)
    assert len(accepted["reference_id"]) == 32
    assert (refused["code"], refused["http_status"]) == (3405, 401)
    assert post(sandbox, "/sandbox/reset").json() == {"ok": True}
    assert ledger(sandbox)["requests"] == 0


def test_an_accepted_answer_has_telesigns_shape(sandbox):
    response = requests.post(
        sandbox.url + "/v1/omnichannel",
        data=b'{"channels":[{"channel":"sms"}],"phone_number":"15558675300",'
        b'"message":{"sms":{"template":"text","parameters":{"text":"Hi"}}},'
        b'"message_type":"ARN"}',
        auth=(SANDBOX_CUSTOMER_ID, SANDBOX_API_KEY),
        timeout=5,
    )
    body = response.json()
    assert response.status_code == 200
    assert response.headers["Allow"] == "GET,POST,HEAD"
    assert body["status"] == {"code": 3001, "description": "Message in progress"}
    assert body["external_id"] is None
    assert len(body["reference_id"]) == 32


def test_rate_limits_answer_429_with_retry_after(sandbox):
    sandbox.state.config.rate_429 = 1.0
    response = post(
        sandbox,
        "/v1/omnichannel",
        data=b"{}",
        auth=(SANDBOX_CUSTOMER_ID, SANDBOX_API_KEY),
    )
    # The body is checked before the rate limit: an empty one is refused.
    assert response.json()["status"]["code"] == 3300
    result = send(sandbox, max_attempts=1)
    assert (result.http_status, result.code, result.retry_after) == (429, 3204, 1.0)
