"""Credentials taken out of text, defined once.

Telesign's error answers may echo the request's headers, so the client passes
everything Telesign says through `redact_credentials` before returning it; the
logs and error reports (`campaigns.logs`) use the same function with every
secret the app knows.
"""

import base64
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
# Shorter values are too common in ordinary text to be replaced wherever they
# appear; no credential of ours is that short.
MIN_SECRET_LENGTH = 6
# Credentials in headers, URLs and key=value text, whatever the secret's value:
# (pattern, replacement keeping the part before the secret).
CREDENTIAL_PATTERNS = [
    (
        re.compile(
            r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:basic|bearer)\s+)[^'\"\s,}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"\b(TSA\s+[^:\s'\"]+:)[A-Za-z0-9+/=]+"), r"\1" + REDACTED),
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+(@)"), r"\1" + REDACTED + r"\2"),
    (
        re.compile(
            r"(?i)((?:api_key|apikey|password|secret)['\"]?\s*[:=]\s*['\"]?)"
            r"[^'\"\s,&}]+"
        ),
        r"\1" + REDACTED,
    ),
]


def basic_token(customer_id: str, api_key: str) -> str:
    """What Basic authentication sends: the key inside, base64-encoded."""
    return base64.b64encode(f"{customer_id}:{api_key}".encode()).decode("ascii")


def api_key_values(customer_id: str, api_keys: Iterable[str]) -> list[str]:
    """Each API key and the Basic token that carries it."""
    keys = [key for key in api_keys if key]
    return [*keys, *(basic_token(customer_id, key) for key in keys)]


def redact_credentials(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each of `secrets` and anything shaped like a credential
    replaced by [redacted]."""
    values = {value for value in secrets if len(value) >= MIN_SECRET_LENGTH}
    for value in sorted(values, key=len, reverse=True):  # no part left showing
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in CREDENTIAL_PATTERNS:
        text = pattern.sub(replacement, text)
    return text
