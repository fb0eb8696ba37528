"""Telesign's request authentication and callback signatures.

Basic: `Authorization: Basic base64(customer_id:api_key)`.
Digest: `Authorization: TSA customer_id:base64(HMAC-SHA256(b64decode(api_key),
string_to_sign))` with Date, x-ts-auth-method and x-ts-nonce; the string to
sign holds the exact body bytes sent.
Callbacks: base64(HMAC-SHA256(b64decode(api_key), raw body)).
"""

import base64
import hashlib
import hmac
import uuid
from email.utils import formatdate

AUTH_METHOD = "HMAC-SHA256"


def _api_key_bytes(api_key: str) -> bytes:
    # Telesign's SDKs decode leniently (characters outside the alphabet, such
    # as the '-' in their documented example key, are dropped); do the same so
    # every key that works with Telesign works here.
    return base64.b64decode(api_key)


def hmac_signature(api_key: str, message: bytes) -> str:
    digest = hmac.new(_api_key_bytes(api_key), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def basic_auth_headers(customer_id: str, api_key: str) -> dict[str, str]:
    token = base64.b64encode(f"{customer_id}:{api_key}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def digest_string_to_sign(
    *,
    method: str,
    content_type: str,
    date: str,
    nonce: str,
    body: bytes,
    path: str,
) -> bytes:
    parts = [
        method.upper().encode(),
        content_type.encode(),
        date.encode(),
        f"x-ts-auth-method:{AUTH_METHOD}".encode(),
        f"x-ts-nonce:{nonce}".encode(),
    ]
    if content_type and body:
        parts.append(body)
    parts.append(path.encode())
    return b"\n".join(parts)


def digest_auth_headers(
    *,
    customer_id: str,
    api_key: str,
    method: str,
    path: str,
    body: bytes,
    content_type: str = "application/json",
    date: str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    date = date or formatdate(usegmt=True)
    nonce = nonce or str(uuid.uuid4())
    signature = hmac_signature(
        api_key,
        digest_string_to_sign(
            method=method,
            content_type=content_type,
            date=date,
            nonce=nonce,
            body=body,
            path=path,
        ),
    )
    return {
        "Authorization": f"TSA {customer_id}:{signature}",
        "Date": date,
        "Content-Type": content_type,
        "x-ts-auth-method": AUTH_METHOD,
        "x-ts-nonce": nonce,
    }


def callback_signature(api_key: str, body: bytes) -> str:
    """The signature Telesign puts on a callback with this body."""
    return hmac_signature(api_key, body)


def callback_headers(customer_id: str, api_key: str, body: bytes) -> dict[str, str]:
    """Headers of a signed callback, as Telesign sends them."""
    signature = callback_signature(api_key, body)
    return {
        "Authorization": f"TSA {customer_id}:{signature}",
        "X-TS-Authorization": f"TSA {customer_id}:{signature}",
        "Content-Type": "application/json",
    }


def parse_tsa_header(value: str) -> tuple[str, str] | None:
    """Split `TSA <customer_id>:<signature>` into its parts, or None if malformed."""
    scheme, _, credentials = (value or "").strip().partition(" ")
    if scheme.upper() != "TSA":
        return None
    customer_id, sep, signature = credentials.strip().partition(":")
    if not sep or not customer_id or not signature:
        return None
    return customer_id, signature


def callback_signature_valid(
    *, body: bytes, header: str, customer_id: str, api_keys: list[str]
) -> bool:
    """True if `header` signs `body` with one of `api_keys` for `customer_id`.

    Several keys are accepted so a key can be rotated without losing callbacks.
    """
    parsed = parse_tsa_header(header)
    if parsed is None:
        return False
    header_customer_id, signature = parsed
    if not hmac.compare_digest(header_customer_id.encode(), customer_id.encode()):
        return False
    valid = False
    for api_key in api_keys:
        try:
            expected = callback_signature(api_key, body)
        except (ValueError, TypeError):
            continue
        # Compare against every key (no early exit) so timing reveals nothing.
        valid |= hmac.compare_digest(expected.encode(), signature.encode())
    return valid
