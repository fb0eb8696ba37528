"""Schemathesis hook for CI: sign each generated callback as Telesign would,
so the fuzzing reaches the parsing and applying code, not only the 401."""

import json

import schemathesis
from schemathesis.core import NotSet

from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
from campaigns.telesign.signing import callback_signature


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if isinstance(case.body, NotSet):
        body = b""
    elif isinstance(case.body, bytes):
        body = case.body
    else:
        # Serialise once here and send these exact bytes: the signature covers them.
        body = json.dumps(case.body).encode()
    case.body = body
    case.headers = {
        **(case.headers or {}),
        "Content-Type": "application/json",
        "Authorization": (
            f"TSA {SANDBOX_CUSTOMER_ID}:{callback_signature(SANDBOX_API_KEY, body)}"
        ),
    }
