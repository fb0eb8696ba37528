"""The deferred applier: stored callbacks applied in batches by the workers.

A batch takes up to `limit` received events (SKIP LOCKED, so workers share the
queue), merges all its delivery reports in memory and writes what changed in a
fixed number of statements, whatever the batch size. Replies, bodies that do
not parse, and every event of a batch that failed are applied one by one.
"""

import logging
import time

from django.db import transaction
from django.db.models import Q

from ...db.channel_attempts import channel_attempts_upsert
from ...db.row_updates import rows_update
from ...models import CallbackEvent, Campaign, ChannelAttempt, Recipient
from ...telesign.callbacks import (
    CallbackNotJSONError,
    CallbackShapeError,
    DeliveryReport,
    InboundReply,
    parse_callback_body,
)
from . import merge
from .apply import EVENT_FIELDS, callback_event_apply, event_describe
from .reprocess import callback_events_reprocess

logger = logging.getLogger(__name__)

EVENT = CallbackEvent.Processing


def callbacks_apply_pending(*, max_seconds: float = 3.0, batch: int = 1000) -> int:
    """Apply stored events in batches until none is left or time is up."""
    deadline = time.monotonic() + max_seconds
    applied = 0
    while time.monotonic() < deadline:
        taken = callback_events_apply_batch(limit=batch)
        applied += taken
        if taken < batch:
            break
    return applied


def callback_events_apply_batch(*, limit: int = 1000) -> int:
    """Apply up to `limit` stored events in one transaction and a fixed number
    of queries; returns how many were taken. Workers share the queue (rows
    locked with SKIP LOCKED on PostgreSQL)."""
    with transaction.atomic():
        # Only what applying reads; every field written is set first.
        events = list(
            CallbackEvent.objects.select_for_update(skip_locked=True)
            .filter(processing=EVENT.RECEIVED)
            .only("id", "raw_body", "kind", "processing", "recipient")
            .order_by("id")[:limit]
        )
        if not events:
            return 0
        deliveries, one_by_one = _sorted_by_kind(events)
        orphans: list[CallbackEvent] = []
        try:
            with transaction.atomic():
                _deliveries_apply(deliveries)
            orphans += [e for e, _ in deliveries if e.processing == EVENT.ORPHAN]
        except Exception:
            # One bad event must not hold up the rest: apply each on its own.
            logger.exception("a callback batch failed; applying its events singly")
            one_by_one += [event for event, _ in deliveries]
        orphans += _apply_one_by_one(one_by_one)
        if orphans:
            transaction.on_commit(lambda: orphans_recheck(events=orphans))
    return len(events)


def _sorted_by_kind(
    events: list[CallbackEvent],
) -> tuple[list[tuple[CallbackEvent, DeliveryReport]], list[CallbackEvent]]:
    """Delivery reports (applied together) and the rest (applied one by one)."""
    deliveries: list[tuple[CallbackEvent, DeliveryReport]] = []
    one_by_one: list[CallbackEvent] = []
    for event in events:
        try:
            parsed = parse_callback_body(bytes(event.raw_body))
        except (CallbackNotJSONError, CallbackShapeError):
            one_by_one.append(event)  # marked failed there, with the reason
            continue
        if isinstance(parsed, InboundReply):
            one_by_one.append(event)
        else:
            deliveries.append((event, parsed))
    return deliveries, one_by_one


def _apply_one_by_one(events: list[CallbackEvent]) -> list[CallbackEvent]:
    """Apply each event on its own (read again, whole); returns the orphans."""
    orphans = []
    singly = CallbackEvent.objects.filter(pk__in=[e.pk for e in events])
    for event in singly.order_by("id"):
        try:
            callback_event_apply(event=event)
        except CallbackShapeError:
            pass  # marked failed with the reason
        if event.processing == EVENT.ORPHAN:
            orphans.append(event)
    return orphans


def orphans_recheck(*, events: list[CallbackEvent]) -> int:
    """Look once more for the recipients of events just committed as orphans;
    returns how many were applied after all.

    A send answer may have stored the reference between our reading and our
    commit; its own look for orphans (`orphans_for_references_apply`) then came
    too early to see these. Each side commits before it looks at the other, so
    one of the two looks finds the pair.
    """
    references = {e.reference_id for e in events if e.reference_id}
    externals = {e.external_id for e in events if e.external_id}
    known = Recipient.objects.filter(
        Q(reference_id__in=references) | Q(external_id__in=externals)
    ).values_list("reference_id", "external_id")
    known_references = {reference for reference, _ in known if reference}
    known_externals = {external for _, external in known}
    matched = [
        e.pk
        for e in events
        if e.reference_id in known_references or e.external_id in known_externals
    ]
    if not matched:
        return 0
    outcomes = callback_events_reprocess(
        events=CallbackEvent.objects.filter(
            pk__in=matched, processing=EVENT.ORPHAN
        ).order_by("id")
    )
    return outcomes.get(EVENT.APPLIED, 0)


def _deliveries_apply(deliveries: list[tuple[CallbackEvent, DeliveryReport]]) -> None:
    """Merge every report of the batch in memory, then write what changed."""
    recipients = _recipients_lock(deliveries)
    before = {r.pk: _callback_state(r) for r in recipients}
    by_reference = {r.reference_id: r for r in recipients if r.reference_id}
    by_external = {r.external_id: r for r in recipients}
    attempts: dict[int, dict[str, ChannelAttempt]] = {r.pk: {} for r in recipients}
    for attempt in ChannelAttempt.objects.filter(recipient__in=recipients):
        attempts[attempt.recipient_id][attempt.channel] = attempt
    changed_attempts: dict[tuple[int, str], ChannelAttempt] = {}
    for event, report in deliveries:
        event_describe(event, report)
        recipient = by_reference.get(report.reference_id) or by_external.get(
            report.external_id
        )
        if recipient is None:
            event.processing = EVENT.ORPHAN
            continue
        for attempt in merge.report_merge(
            recipient=recipient, attempts=attempts[recipient.pk], report=report
        ):
            changed_attempts[(recipient.pk, attempt.channel)] = attempt
        if recipient.reference_id:
            by_reference[recipient.reference_id] = recipient
        event.recipient = recipient
        event.processing = EVENT.APPLIED
    channel_attempts_upsert(
        list(changed_attempts.values()), fields=merge.ATTEMPT_FIELDS
    )
    # A duplicate or an older report changes nothing: its row is not rewritten
    # (PostgreSQL would write a new row version and index entries all the same).
    rows_update(
        Recipient,
        merge.RECIPIENT_CALLBACK_FIELDS,
        [r for r in recipients if _callback_state(r) != before[r.pk]],
    )
    rows_update(
        CallbackEvent,
        [*EVENT_FIELDS, "recipient", "processing"],
        [event for event, _ in deliveries],
    )


def _recipients_lock(
    deliveries: list[tuple[CallbackEvent, DeliveryReport]],
) -> list[Recipient]:
    """The batch's recipients, locked in id order, with their campaigns."""
    references = {r.reference_id for _, r in deliveries if r.reference_id}
    externals = {r.external_id for _, r in deliveries if r.external_id}
    recipients = list(
        Recipient.objects.select_for_update()
        .filter(Q(reference_id__in=references) | Q(external_id__in=externals))
        .order_by("id")
    )
    # A batch is nearly always one campaign: read it once, not once per row.
    campaigns = Campaign.objects.in_bulk({r.campaign_id for r in recipients})
    for recipient in recipients:
        recipient.campaign = campaigns[recipient.campaign_id]
    return recipients


def _callback_state(recipient: Recipient) -> tuple:
    return tuple(getattr(recipient, name) for name in merge.RECIPIENT_CALLBACK_FIELDS)
