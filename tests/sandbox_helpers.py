"""Start the real sandbox on a free loopback port for a test."""

import requests

from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
from sandbox import SandboxConfig, TelesignSandbox


def start_sandbox(**knobs) -> TelesignSandbox:
    config = SandboxConfig(
        customer_id=SANDBOX_CUSTOMER_ID,
        api_key=SANDBOX_API_KEY,
        time_scale=knobs.pop("time_scale", 0.001),
        seed=knobs.pop("seed", 7),
        **knobs,
    )
    return TelesignSandbox(config, port=0).start()


def ledger(sandbox: TelesignSandbox, full: bool = False) -> dict:
    return requests.get(
        sandbox.url + "/sandbox/ledger" + ("?full=1" if full else ""), timeout=5
    ).json()


def start_sandbox_calling_back(live_server_url: str, settings) -> TelesignSandbox:
    """The sandbox with callbacks and image fetching, calling the live test
    server back, and the app's settings pointed at both."""
    settings.PUBLIC_BASE_URL = live_server_url
    sandbox = start_sandbox(
        callbacks_enabled=True,
        fetch_images=True,
        time_scale=0.001,
        callback_url=live_server_url + "/api/telesign/callbacks/",
    )
    settings.TELESIGN_SANDBOX_URL = sandbox.url
    settings.TELESIGN_CUSTOMER_ID = settings.TELESIGN_API_KEY = ""
    return sandbox
