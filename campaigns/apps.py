from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Viber campaigns"

    def ready(self):
        # Registering: the system checks, and the services' task entry points.
        from . import checks, tasks  # noqa: F401
