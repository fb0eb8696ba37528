"""System checks: what `manage.py check --deploy` must warn about."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


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
