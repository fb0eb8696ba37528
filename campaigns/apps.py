from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Viber campaigns"

    def ready(self):
        # Registering: the system checks, the services' task entry points, and
        # the person's time zone read at sign-in.
        from . import checks, middleware, tasks  # noqa: F401
