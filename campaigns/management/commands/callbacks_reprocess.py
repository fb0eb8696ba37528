from django.core.management.base import BaseCommand, CommandError

from campaigns import services
from campaigns.models import CallbackEvent


class Command(BaseCommand):
    help = "Apply stored Telesign callbacks again: failed ones, orphans, or by id."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="CallbackEvent ids")
        parser.add_argument("--failed", action="store_true", help="all failed events")
        parser.add_argument("--orphans", action="store_true", help="all orphans")

    def handle(self, *args, ids, failed, orphans, **options):
        states = [
            state
            for state, wanted in (
                (CallbackEvent.Processing.FAILED, failed),
                (CallbackEvent.Processing.ORPHAN, orphans),
            )
            if wanted
        ]
        if not ids and not states:
            raise CommandError("Give event ids, --failed or --orphans.")
        events = CallbackEvent.objects.none()
        if ids:
            events = CallbackEvent.objects.filter(pk__in=ids)
        if states:
            events = events | CallbackEvent.objects.filter(processing__in=states)
        outcomes = services.callback_events_reprocess(
            events=events.order_by("received_at", "id")
        )
        if not outcomes:
            self.stdout.write("No event to reprocess.")
        for state, count in sorted(outcomes.items()):
            self.stdout.write(f"{count} {state}")
