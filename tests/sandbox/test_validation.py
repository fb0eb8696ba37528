"""The sandbox refuses what Telesign refuses, with Telesign's codes."""

import json

import pytest
import requests

from campaigns.telesign import omnichannel_payload
from campaigns.telesign.codes import status_code_info
from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
from campaigns.telesign.signing import basic_auth_headers
from sandbox import Rejected, validate_request

from ..telesign.examples import SEED_MESSAGE


def post(sandbox, payload, headers=None):
    return requests.post(
        sandbox.url + "/v1/omnichannel",
        data=json.dumps(payload),
        headers=(
            basic_auth_headers(SANDBOX_CUSTOMER_ID, SANDBOX_API_KEY)
            if headers is None
            else headers
        ),
        timeout=5,
    )


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda p: p.pop("channels"), 3300),
        (lambda p: p.pop("message"), 3303),
        (lambda p: p.pop("message_type"), 3304),
        (lambda p: p.pop("phone_number"), 3302),
        (lambda p: p["channels"].append({"channel": "sms"}), 3113),
        (lambda p: p.update(message_type="PROMO"), 3102),
        (lambda p: p.update(external_id="ü" * 3), 3103),
        (lambda p: p["channels"][0].update(fallback_time=5), 3113),
        (lambda p: p.update(padding="x" * 11000), 3116),
    ],
)
def test_sandbox_validates_with_telesigns_codes(sandbox, mutate, code):
    payload = omnichannel_payload(SEED_MESSAGE)
    mutate(payload)
    response = post(sandbox, payload)
    assert response.status_code == 400
    assert response.json()["status"]["code"] == code


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, 3405),
        ({"Authorization": "Basic not-base64!"}, 3412),
        ({"Authorization": "Bearer abc"}, 3412),
        ({"Authorization": f"TSA {SANDBOX_CUSTOMER_ID}:c2ln"}, 3412),  # no date
        (basic_auth_headers(SANDBOX_CUSTOMER_ID, "b3RoZXI="), 3400),
    ],
)
def test_wrong_credentials_get_401_with_telesigns_code(sandbox, headers, code):
    response = post(sandbox, omnichannel_payload(SEED_MESSAGE), headers=headers)
    assert response.status_code == 401
    assert response.json()["status"] == {
        "code": code,
        "description": status_code_info(code).description,
    }


def test_a_refusal_echoes_the_external_id_and_is_in_the_ledger(sandbox):
    payload = omnichannel_payload(SEED_MESSAGE)
    payload["message_type"] = "PROMO"
    body = post(sandbox, payload).json()
    assert body == {
        "status": {"code": 3102, "description": "Invalid message_type"},
        "external_id": "c1-1",
    }
    entry = sandbox.state.ledger_summary(full=True)["entries"][0]
    assert (entry["code"], entry["http_status"], entry["external_id"]) == (
        3102,
        400,
        "c1-1",
    )


def test_the_seed_request_passes_and_names_its_channels_in_order():
    checked = validate_request(omnichannel_payload(SEED_MESSAGE))
    assert (checked.channels, checked.phone, checked.external_id) == (
        ["viber", "sms"],
        "15558675309",
        "c1-1",
    )


def test_recipient_phone_number_stands_in_for_the_deprecated_field():
    payload = omnichannel_payload(SEED_MESSAGE)
    payload["recipient"] = {"phone_number": payload.pop("phone_number")}
    assert validate_request(payload).phone == "15558675309"


@pytest.mark.parametrize(
    ("mutate", "code", "description"),
    [
        (
            lambda p: p["channels"][0].update(fallback_time=3601),
            3113,
            "fallback_time must be an integer from 30 to 3600",
        ),
        (
            lambda p: p["channels"][0].update(fallback_time=True),
            3113,
            "fallback_time must be an integer from 30 to 3600",
        ),
        (lambda p: p["channels"].append({"channel": "fax"}), 3100, "Unknown channel"),
        (lambda p: p.update(phone_number="+15558675309"), 3101, "Invalid phone"),
        (lambda p: p.update(callback_url=""), 3106, "Invalid callback_url"),
        (lambda p: p["message"].pop("sms"), 3306, "No message content"),
        (
            lambda p: p["message"]["viber"].update(template="carousel"),
            3112,
            "Template does not exist for viber",
        ),
        (
            lambda p: p["message"]["viber"]["parameters"].pop("url"),
            3305,
            "Missing template parameter url",
        ),
        (
            lambda p: p["message"]["sms"]["parameters"].update(text=""),
            3305,
            "Missing template parameter text",
        ),
    ],
)
def test_refusals_name_what_is_wrong(mutate, code, description):
    payload = omnichannel_payload(SEED_MESSAGE)
    mutate(payload)
    with pytest.raises(Rejected) as refused:
        validate_request(payload)
    assert refused.value.code == code
    assert refused.value.description.startswith(description)
    assert refused.value.http_status == 400
