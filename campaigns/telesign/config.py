"""Builds the client from settings: real Telesign with credentials, else the
local sandbox (the top-level `sandbox` package, run by `manage.py
telesign_sandbox`)."""

from django.conf import settings

from .client import TelesignClient

# The local sandbox's own credentials, shared by the app and the sandbox's
# command. They open nothing but the sandbox on this machine, so they are
# constants, not secrets.
SANDBOX_CUSTOMER_ID = "SANDBOX-0000-0000-0000-000000000000"
SANDBOX_API_KEY = "c2FuZGJveC1rZXktb25seS1mb3ItdGhlLWxvY2FsLXNhbmRib3g="


def telesign_uses_sandbox() -> bool:
    return not (settings.TELESIGN_CUSTOMER_ID and settings.TELESIGN_API_KEY)


def sandbox_refused() -> bool:
    """Whether the app runs in sandbox mode where it must not: with DEBUG off,
    unless TELESIGN_SANDBOX_WITHOUT_DEBUG allows it (a staging demo). The
    sandbox's key is public, so its signature proves nothing outside a
    developer's machine."""
    return telesign_uses_sandbox() and not (
        settings.DEBUG or settings.TELESIGN_SANDBOX_WITHOUT_DEBUG
    )


def telesign_credentials() -> tuple[str, str, str]:
    """(base_url, customer_id, api_key) in use."""
    if telesign_uses_sandbox():
        return settings.TELESIGN_SANDBOX_URL, SANDBOX_CUSTOMER_ID, SANDBOX_API_KEY
    return (
        settings.TELESIGN_BASE_URL,
        settings.TELESIGN_CUSTOMER_ID,
        settings.TELESIGN_API_KEY,
    )


def client_from_settings(**overrides) -> TelesignClient:
    base_url, customer_id, api_key = telesign_credentials()
    options = {
        "base_url": base_url,
        "customer_id": customer_id,
        "api_key": api_key,
        "auth_method": settings.TELESIGN_AUTH_METHOD,
        "connect_timeout": settings.TELESIGN_CONNECT_TIMEOUT,
        "read_timeout": settings.TELESIGN_READ_TIMEOUT,
        "pool_size": max(settings.SEND_CONCURRENCY, 4),
        **overrides,
    }
    return TelesignClient(**options)


def callback_credentials() -> tuple[str, list[str]]:
    """(customer_id, accepted API keys) that callbacks must be signed with;
    no key at all where sandbox mode is refused."""
    if telesign_uses_sandbox():
        return SANDBOX_CUSTOMER_ID, [] if sandbox_refused() else [SANDBOX_API_KEY]
    keys = settings.TELESIGN_CALLBACK_API_KEYS or [settings.TELESIGN_API_KEY]
    return settings.TELESIGN_CUSTOMER_ID, [k for k in keys if k]
