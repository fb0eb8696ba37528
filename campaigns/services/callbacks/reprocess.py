"""Applying stored callbacks again: failed ones, orphans whose recipient may
exist by now, or all of one recipient's to rebuild its delivery state."""

from django.db import transaction
from django.db.models import Q

from ...models import CallbackEvent, CampaignReport, Recipient
from ...telesign.callbacks import CallbackShapeError
from .apply import callback_event_apply

EVENT = CallbackEvent.Processing


def callback_events_reprocess(*, events) -> dict[str, int]:
    """Apply stored events again (failed or orphaned ones); returns the outcomes."""
    outcomes: dict[str, int] = {}
    recipient_ids = set()
    for event in events:
        try:
            outcome = callback_event_apply(event=event)
        except CallbackShapeError:
            outcome = EVENT.FAILED
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        recipient_ids.add(event.recipient_id)
    # Old events change recipients too: their campaigns' reports are out of date.
    CampaignReport.objects.filter(
        campaign__recipients__in=recipient_ids - {None}
    ).update(stale=True)
    return outcomes


def callback_orphans_apply(*, reference_ids=None, limit: int = 1000) -> dict[str, int]:
    """Apply orphaned events whose recipient may exist by now."""
    orphans = CallbackEvent.objects.filter(processing=EVENT.ORPHAN)
    if reference_ids is not None:
        orphans = orphans.filter(reference_id__in=list(reference_ids))
    return callback_events_reprocess(events=orphans.order_by("id")[:limit])


def recipient_rebuild_from_events(*, recipient: Recipient) -> Recipient:
    """Forget a recipient's delivery state and replay its stored callbacks in
    the order received."""
    with transaction.atomic():
        recipient.attempts.all().delete()
        Recipient.objects.filter(pk=recipient.pk).exclude(
            outcome__in=[Recipient.Outcome.SUPPRESSED, Recipient.Outcome.CANCELLED]
        ).update(
            status_code=None,
            status_description="",
            status_updated_on=None,
            last_channel="",
            outcome=Recipient.Outcome.PENDING,
            failure_reason="",
            delivered_at=None,
            read_at=None,
            # Its status may be asked for again (or the checks end again).
            status_check_end="",
        )
        # Its own events, and any that could not be matched to it before (only
        # those are indexed by reference and external id).
        unmatched = Q(processing__in=CallbackEvent.UNMATCHED)
        events = CallbackEvent.objects.filter(
            Q(recipient=recipient)
            | (unmatched & Q(reference_id=recipient.reference_id or "-"))
            | (unmatched & Q(external_id=recipient.external_id))
        ).exclude(kind=CallbackEvent.Kind.INBOUND)
        callback_events_reprocess(events=events.order_by("received_at", "id"))
    recipient.refresh_from_db()
    return recipient
