"""System checks: what stops the app from starting, and what `manage.py check
--deploy` must warn about."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .telesign.config import sandbox_refused


@register(Tags.security)
def sandbox_mode_check(app_configs, **kwargs):
    """Sandbox mode outside development would accept callbacks signed with the
    sandbox's public key: every command that starts the app refuses it."""
    if not sandbox_refused():
        return []
    return [
        Error(
            "No Telesign credentials and DEBUG is off: sandbox mode would accept "
            "callbacks signed with the sandbox's public key.",
            hint="Set TELESIGN_CUSTOMER_ID and TELESIGN_API_KEY; or DEBUG=true "
            "for local development; or TELESIGN_SANDBOX_WITHOUT_DEBUG=true for "
            "a demo that messages nobody.",
            id="campaigns.E001",
        )
    ]


@register(Tags.security, deploy=True)
def campaign_deploy_checks(app_configs, **kwargs):
    warnings = []
    if settings.TELESIGN_CALLBACKS_ALLOW_UNSIGNED:
        warnings.append(
            Warning(
                "TELESIGN_CALLBACKS_ALLOW_UNSIGNED is on: anyone can post delivery "
                "reports and replies.",
                hint="Turn it off outside local development.",
                id="campaigns.W001",
            )
        )
    if not settings.PUBLIC_BASE_URL.startswith("https://"):
        warnings.append(
            Warning(
                "PUBLIC_BASE_URL is not https: Viber will not fetch images from it.",
                hint="Set PUBLIC_BASE_URL to the app's public https address.",
                id="campaigns.W002",
            )
        )
    if not (settings.TELESIGN_CUSTOMER_ID and settings.TELESIGN_API_KEY):
        warnings.append(
            Warning(
                "No Telesign credentials: messages go to the local sandbox.",
                hint="Set TELESIGN_CUSTOMER_ID and TELESIGN_API_KEY.",
                id="campaigns.W003",
            )
        )
    return warnings
