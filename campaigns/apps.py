from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Viber campaigns"

    def ready(self):
        # Registering: the system checks, the services' task entry points, and
        # the person's time zone read at sign-in.
        from . import checks, middleware, tasks  # noqa: F401


class CampaignsAdminConfig(admin_apps.AdminConfig):
    """Django's admin with the marketer's home as its index (see admin_site.py)."""

    default = False  # named in INSTALLED_APPS; "campaigns" stays CampaignsConfig
    default_site = "campaigns.admin_site.CampaignAdminSite"
