"""Request authentication and callback signatures, against Telesign's SDK and
its published test vectors."""

import base64

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from telesign.rest import RestClient
from telesign.util import verify_telesign_callback_signature

from campaigns.telesign import encode_payload
from campaigns.telesign.config import SANDBOX_API_KEY
from campaigns.telesign.signing import (
    basic_auth_headers,
    callback_signature,
    callback_signature_valid,
    digest_auth_headers,
)

from .examples import EXAMPLE_KEY, FIXTURES, SEED_MESSAGE


def test_basic_auth_matches_the_official_sdk():
    ours = basic_auth_headers("CUST-1", EXAMPLE_KEY)["Authorization"]
    theirs = RestClient.generate_telesign_headers(
        "CUST-1", EXAMPLE_KEY, "POST", "/v1/omnichannel", "", auth_method="Basic"
    )["Authorization"]
    assert ours == theirs
    assert base64.b64decode(ours.split()[1]).decode() == f"CUST-1:{EXAMPLE_KEY}"


@pytest.mark.parametrize("key", [EXAMPLE_KEY, SANDBOX_API_KEY])
def test_digest_auth_matches_the_official_sdk_on_the_exact_json_bytes(key):
    body = encode_payload(SEED_MESSAGE)
    date, nonce = (
        "Wed, 14 Dec 2016 18:20:12 GMT",
        "A1592C6F-E384-4CDB-BC42-C3AB970369E9",
    )
    ours = digest_auth_headers(
        customer_id="CUST-1",
        api_key=key,
        method="POST",
        path="/v1/omnichannel",
        body=body,
        date=date,
        nonce=nonce,
    )
    theirs = RestClient.generate_telesign_headers(
        "CUST-1",
        key,
        "POST",
        "/v1/omnichannel",
        body.decode(),
        date_rfc2616=date,
        nonce=nonce,
        content_type="application/json",
    )
    for header in (
        "Authorization",
        "Date",
        "Content-Type",
        "x-ts-auth-method",
        "x-ts-nonce",
    ):
        assert ours[header] == theirs[header]


def test_digest_signature_matches_telesigns_published_vector():
    headers = digest_auth_headers(
        customer_id="FFFFFFFF-EEEE-DDDD-1234-AB1234567890",
        api_key=EXAMPLE_KEY,
        method="POST",
        path="/v1/resource",
        body=b"test=param",
        content_type="application/x-www-form-urlencoded",
        date="Wed, 14 Dec 2016 18:20:12 GMT",
        nonce="A1592C6F-E384-4CDB-BC42-C3AB970369E9",
    )
    assert headers["Authorization"].endswith(
        ":2xVlmbrxLjYrrPun3G3WMNG6Jon4yKcTeOoK9DjXJ/Q="
    )


def test_callback_signature_matches_the_sdk_and_the_published_vector():
    assert (
        callback_signature(EXAMPLE_KEY, b"{'test': 123}")
        == "B97g3N9lPdVaptvifxRau7bzVAC5hhRBZ6HKXABN744="
    )
    body = (FIXTURES / "seed_callback.json").read_text()
    signature = callback_signature(SANDBOX_API_KEY, body.encode())
    assert verify_telesign_callback_signature(SANDBOX_API_KEY, signature, body)
    assert callback_signature_valid(
        body=body.encode(),
        header=f"TSA CID:{signature}",
        customer_id="CID",
        api_keys=["b2xkLWtleQ==", SANDBOX_API_KEY],
    )
    assert not callback_signature_valid(
        body=body.encode(),
        header=f"TSA OTHER:{signature}",
        customer_id="CID",
        api_keys=[SANDBOX_API_KEY],
    )


@given(key=st.binary(min_size=1, max_size=64), body=st.text(max_size=300))
@hsettings(max_examples=200, deadline=None)
def test_our_signature_matches_the_official_sdk(key, body):
    api_key = base64.b64encode(key).decode()
    signature = callback_signature(api_key, body.encode())
    assert verify_telesign_callback_signature(api_key, signature, body)
    assert callback_signature_valid(
        body=body.encode(),
        header=f"TSA C:{signature}",
        customer_id="C",
        api_keys=[api_key],
    )
    assert not callback_signature_valid(
        body=(body + " ").encode(),
        header=f"TSA C:{signature}",
        customer_id="C",
        api_keys=[api_key],
    )
