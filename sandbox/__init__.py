"""A local stand-in for Telesign's `POST /v1/omnichannel`, with signed callbacks.

For development and tests only: the app talks to it whenever no Telesign
credentials are set (`manage.py telesign_sandbox`, started by `make run`).
It authenticates (Basic and digest), validates with Telesign's status codes
(the app's own table in `campaigns.telesign.codes`), answers 3001 with a
fresh reference_id, fetches the image as Viber would, and later POSTs
delivery callbacks in Telesign's messaging schema, signed with the app's
own signing code. Outcomes are decided by the last digit of the number (see
`sandbox.scenarios`), and every provider delay is multiplied by
`time_scale` so a demo campaign ends in seconds. `GET
/v1/omnichannel/{reference_id}` tells a message's status so far in the
callbacks' shape (3311 for an unknown reference, -10004 after 12 hours).

Knobs for tests and benchmarks (command-line options or POST /sandbox/config):
added latency, rates of 503/3500, 429/3204 and "accepted, then no answer in
time", a share of messages whose callbacks are never sent, and a ledger of
every request (GET /sandbox/ledger).

    config        SandboxConfig, the knobs
    validation    credentials and body checks, with Telesign's codes
    omnichannel   the answer to one request, and its planned callbacks
    messages      what is remembered of each accepted message, its status
    status        the answer to a status request
    scenarios     outcomes by last digit, as timed steps
    reports       callback bodies in Telesign's schema
    images        fetching the image as Viber would
    callbacks     the callback schedule and the signed senders
    state         what the threads share: knobs, ledger, schedule
    handler       the HTTP routes
    server        TelesignSandbox: the server and its threads
"""

from .config import SandboxConfig
from .server import TelesignSandbox
from .state import SandboxState
from .validation import CheckedRequest, Rejected, validate_request

__all__ = [
    "CheckedRequest",
    "Rejected",
    "SandboxConfig",
    "SandboxState",
    "TelesignSandbox",
    "validate_request",
]
