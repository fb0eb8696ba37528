from django.core.management.base import BaseCommand

from campaigns.services.demo import demo_workspace_ensure


class Command(BaseCommand):
    help = "Create the demo image, audience and draft campaign (once)."

    def handle(self, *args, **options):
        campaign = demo_workspace_ensure()
        self.stdout.write(f"Demo campaign ready: “{campaign}” (id {campaign.pk}).")
