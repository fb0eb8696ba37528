"""Replay recorded Telesign payloads through the signed callback endpoint.

Each file in tests/fixtures/telesign/ holds one documented callback, byte for
byte as Telesign would send it. `replay(client, "viber_read")` signs those
exact bytes with the sandbox's key, as Telesign signs a callback, and posts
them to /api/telesign/callbacks/; the test then looks at the rows.
"""

import json
from pathlib import Path

from ..callback_helpers import post_callback

FIXTURES = Path(__file__).parent.parent / "fixtures" / "telesign"


def fixture_body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_data(name: str) -> dict:
    return json.loads(fixture_body(name))


def replay(client, name: str, *, method: str = "post"):
    """Post the recorded payload `name`, signed; returns the response."""
    return post_callback(client, fixture_body(name), method=method)
