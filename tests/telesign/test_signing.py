"""Callback signatures: ours agree with Telesign's official SDK."""

import base64

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from telesign.util import verify_telesign_callback_signature

from campaigns.telesign.signing import callback_signature, callback_signature_valid


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
