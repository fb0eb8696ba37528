"""Sign callback payloads as Telesign does, and post them to the app."""

import json

from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
from campaigns.telesign.signing import callback_signature

URL = "/api/telesign/callbacks/"


def signed_headers(body: bytes, *, key=SANDBOX_API_KEY, customer=SANDBOX_CUSTOMER_ID):
    return {"Authorization": f"TSA {customer}:{callback_signature(key, body)}"}


def post_callback(client, payload, *, method="post", headers=None, **sign):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = signed_headers(body, **sign) if headers is None else headers
    return client.generic(
        method.upper(),
        URL,
        data=body,
        content_type="application/json",
        headers=headers,
    )


def delivery(
    reference_id,
    *,
    code,
    channels=(),
    external_id=None,
    last="viber",
    at="2026-11-28 10:00:00:000",
):
    """A delivery report; channels are (name, code, reference, updated_on)."""
    return {
        "reference_id": reference_id,
        "external_id": external_id,
        "status": {
            "code": code,
            "description": f"status {code}",
            "last_channel": last,
            "updated_on": at,
        },
        "channel_status": [
            {
                name: {
                    "code": ch_code,
                    "description": f"status {ch_code}",
                    **({"reference_id": ref} if ref else {}),
                    "updated_on": ch_at,
                }
            }
            for name, ch_code, ref, ch_at in channels
        ],
    }
