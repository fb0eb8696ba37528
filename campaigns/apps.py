from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Viber campaigns"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
