"""Applying Telesign's callbacks: lossless, idempotent and order-proof.

Every authenticated request is stored raw first (CallbackEvent), then applied.
A report never moves a recipient or a channel attempt backwards: it replaces
what is stored only if its status ranks higher, or ranks the same and is not
older (provider `updated_on`). Duplicates therefore change nothing, and any
order of the same reports ends in the same state.
"""

import json
import logging
import string
import time
import weakref
from datetime import datetime

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from ..models import (
    CallbackEvent,
    CallbackRejection,
    Campaign,
    CampaignReport,
    Channel,
    ChannelAttempt,
    Contact,
    InboundMessage,
    OptOutSource,
    Recipient,
)
from ..telesign.callbacks import (
    CallbackShapeError,
    DeliveryReport,
    InboundReply,
    parse_callback,
    status_rank,
)
from ..telesign.codes import CodeKind, status_code_info
from ..telesign.config import callback_credentials
from ..telesign.signing import callback_signature_valid
from .workspace import contacts_opt_in, contacts_opt_out

logger = logging.getLogger(__name__)

EVENT = CallbackEvent.Processing
DELIVERED_KINDS = (CodeKind.DELIVERED, CodeKind.READ)
STORED_HEADERS = ("Content-Type", "Content-Length", "User-Agent", "X-Forwarded-For")


# --- Authentication -------------------------------------------------------------


def callback_authenticate(*, headers, body: bytes) -> str | None:
    """Return the CallbackEvent.Signature verdict, or None if the request is refused.

    Verifies the raw bytes before anything is parsed.
    """
    header = headers.get("Authorization") or headers.get("X-TS-Authorization") or ""
    if not header:
        if settings.TELESIGN_CALLBACKS_ALLOW_UNSIGNED:
            return CallbackEvent.Signature.UNSIGNED_ALLOWED
        return None
    customer_id, api_keys = callback_credentials()
    if callback_signature_valid(
        body=body, header=header, customer_id=customer_id, api_keys=api_keys
    ):
        return CallbackEvent.Signature.VALID
    return None


def callback_rejection_count(*, reason: str, remote_addr: str = "") -> None:
    """Count a refused callback per day and reason; never stores its body."""
    now = timezone.now()
    updated = CallbackRejection.objects.filter(day=now.date(), reason=reason).update(
        count=F("count") + 1, last_at=now, last_remote_addr=remote_addr[:64]
    )
    if not updated:
        CallbackRejection.objects.get_or_create(
            day=now.date(),
            reason=reason,
            defaults={"count": 1, "last_at": now, "last_remote_addr": remote_addr[:64]},
        )


# --- Receiving ------------------------------------------------------------------


def _relevant_headers(headers) -> dict[str, str]:
    kept = {name: headers.get(name) for name in STORED_HEADERS if headers.get(name)}
    for name in ("Authorization", "X-TS-Authorization"):
        value = headers.get(name) or ""
        if value:
            # Keep who signed, not the signature itself.
            kept[name] = value.split(":", 1)[0][:80]
    return kept


def callback_event_store(
    *, method: str, headers, body: bytes, signature: str
) -> CallbackEvent:
    return CallbackEvent.objects.create(
        method=method[:8],
        headers=_relevant_headers(headers),
        raw_body=body,
        signature=signature,
    )


def callback_receive(
    *, method: str, headers, body: bytes, signature: str
) -> tuple[CallbackEvent, int, dict]:
    """Store an authenticated callback, then apply it, in one transaction: the
    apply step runs in a savepoint, so if it fails the event is still kept
    (marked failed) while its partial effects are undone.

    Returns the event (None when only stored for the batch applier), the HTTP
    status to answer and the JSON body.
    """
    if settings.CALLBACK_APPLY == "deferred":
        status, answer = callback_store(
            method=method, headers=headers, body=body, signature=signature
        )
        return None, status, answer
    with transaction.atomic():
        event = callback_event_store(
            method=method, headers=headers, body=body, signature=signature
        )
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            _event_failed(event, f"The body is not JSON: {exc}")
            return event, 400, {"error": f"The body is not valid JSON: {exc}"}
        try:
            processing = callback_event_apply(event=event, data=data)
        except CallbackShapeError as exc:
            return (
                event,
                400,
                {"error": "Unexpected callback shape.", "fields": exc.errors},
            )
    if processing == EVENT.ORPHAN:
        if _orphans_recheck(events=[event]):
            return event, 200, {"stored": True, "applied": True}
        return event, 202, {"stored": True, "matched": False}
    if processing == EVENT.FAILED:
        # Stored and kept for reprocessing; asking Telesign to resend won't help.
        return event, 200, {"stored": True, "applied": False}
    return event, 200, {"stored": True, "applied": True}


def _event_failed(event: CallbackEvent, error: str) -> None:
    event.processing = EVENT.FAILED
    event.error = error[:2000]
    event.save(update_fields=["processing", "error"])


def callback_event_apply(*, event: CallbackEvent, data=None) -> str:
    """Apply one stored event; returns its new processing state.

    Raises CallbackShapeError (after marking the event failed) for payloads of
    the wrong shape. Any other error marks the event failed, for reprocessing.
    """
    if data is None:
        try:
            data = json.loads(bytes(event.raw_body))
        except (ValueError, UnicodeDecodeError) as exc:
            _event_failed(event, f"The body is not JSON: {exc}")
            return EVENT.FAILED
    try:
        parsed = parse_callback(data)
    except CallbackShapeError as exc:
        _event_failed(event, f"Unexpected shape: {exc}")
        raise
    try:
        with transaction.atomic():
            if isinstance(parsed, InboundReply):
                return inbound_reply_apply(event=event, reply=parsed)
            return delivery_report_apply(event=event, report=parsed)
    except Exception as exc:
        logger.exception("callback event %s could not be applied", event.pk)
        _event_failed(event, f"{type(exc).__name__}: {exc}")
        return EVENT.FAILED


# --- Delivery reports -------------------------------------------------------------


def supersedes(
    new_code: int | None,
    new_time: datetime | None,
    old_code: int | None,
    old_time: datetime | None,
) -> bool:
    """True if a report (new_code, new_time) should replace the stored one."""
    if old_code is None:
        return new_code is not None
    new_rank, old_rank = status_rank(new_code), status_rank(old_code)
    if new_rank != old_rank:
        return new_rank > old_rank
    if new_time is None or old_time is None:
        return old_time is None
    return new_time >= old_time


def _find_recipient(report: DeliveryReport) -> Recipient | None:
    locked = Recipient.objects.select_for_update().select_related("campaign")
    if report.reference_id:
        found = locked.filter(reference_id=report.reference_id).first()
        if found:
            return found
    if report.external_id:
        return locked.filter(external_id=report.external_id).first()
    return None


def _derive_outcome(recipient: Recipient, attempts: dict[str, ChannelAttempt]) -> None:
    """Set outcome, failure reason and delivered/read times from the attempts."""
    if recipient.outcome in (
        Recipient.Outcome.SUPPRESSED,
        Recipient.Outcome.CANCELLED,
    ):
        return
    viber, sms = attempts.get(Channel.VIBER), attempts.get(Channel.SMS)
    kind = {name: status_code_info(a.status_code).kind for name, a in attempts.items()}
    overall_kind = status_code_info(recipient.status_code).kind
    if viber and viber.status_code == 3005:
        recipient.read_at = recipient.read_at or viber.updated_on or timezone.now()
    if viber and kind[Channel.VIBER] in DELIVERED_KINDS:
        recipient.outcome = Recipient.Outcome.VIBER_DELIVERED
        recipient.delivered_at = recipient.delivered_at or viber.updated_on
    elif sms and kind[Channel.SMS] in DELIVERED_KINDS:
        recipient.outcome = Recipient.Outcome.SMS_DELIVERED
        recipient.delivered_at = recipient.delivered_at or sms.updated_on
    elif not attempts and overall_kind in DELIVERED_KINDS:
        recipient.outcome = (
            Recipient.Outcome.SMS_DELIVERED
            if recipient.last_channel == Channel.SMS
            else Recipient.Outcome.VIBER_DELIVERED
        )
        recipient.delivered_at = recipient.delivered_at or recipient.status_updated_on
    else:
        last_failure = None
        if sms and kind[Channel.SMS] == CodeKind.FAILED:
            last_failure = sms
        elif (
            viber
            and kind[Channel.VIBER] in (CodeKind.FAILED, CodeKind.CHANNEL_FAILED)
            and not recipient.campaign.sms_fallback_enabled
        ):
            # With a fallback, a failed Viber leg only means the SMS is next.
            last_failure = viber
        if last_failure is not None:
            recipient.outcome = Recipient.Outcome.FAILED
            recipient.failure_reason = (
                f"{last_failure.get_channel_display()}: {last_failure.status_code} "
                f"{last_failure.status_description}"
            )[:500]
        elif overall_kind == CodeKind.FAILED:
            recipient.outcome = Recipient.Outcome.FAILED
            recipient.failure_reason = (
                f"{recipient.status_code} {recipient.status_description}"
            )[:500]
    if recipient.read_at and not recipient.delivered_at:
        recipient.delivered_at = recipient.read_at  # read implies delivered


def _earliest(current: datetime | None, candidate: datetime | None):
    if candidate is None:
        return current
    return candidate if current is None else min(current, candidate)


def _earliest_times(recipient: Recipient, report: DeliveryReport) -> None:
    """Delivered and read times are the earliest any report gave, so a late
    duplicate or a read-before-delivered order cannot move them."""
    delivering = {
        Recipient.Outcome.VIBER_DELIVERED: Channel.VIBER,
        Recipient.Outcome.SMS_DELIVERED: Channel.SMS,
    }.get(recipient.outcome)
    for channel in report.channels:
        kind = status_code_info(channel.code).kind
        if channel.channel == delivering and kind in DELIVERED_KINDS:
            recipient.delivered_at = _earliest(
                recipient.delivered_at, channel.updated_on
            )
        if channel.channel == Channel.VIBER and channel.code == 3005:
            recipient.read_at = _earliest(recipient.read_at, channel.updated_on)


RECIPIENT_CALLBACK_FIELDS = [
    "reference_id",
    "status_code",
    "status_description",
    "status_updated_on",
    "last_channel",
    "outcome",
    "failure_reason",
    "delivered_at",
    "read_at",
    "send_status",
]


def _event_describe(event: CallbackEvent, report: DeliveryReport) -> None:
    """Copy what the admin filters and searches on from the report to the event."""
    event.kind = (
        CallbackEvent.Kind.READ if report.is_read else CallbackEvent.Kind.DELIVERY
    )
    event.reference_id = report.reference_id or ""
    event.external_id = report.external_id or ""
    event.status_code = report.code


EVENT_FIELDS = ["kind", "reference_id", "external_id", "status_code"]


def report_merge(
    *,
    recipient: Recipient,
    attempts: dict[str, ChannelAttempt],
    report: DeliveryReport,
) -> list[ChannelAttempt]:
    """Merge one report into a recipient and its attempts, in memory.

    Never regresses (status rank, then Telesign's time); returns the attempts
    that changed, for the caller to write (one by one or in a batch).
    """
    changed: list[ChannelAttempt] = []
    for channel in report.channels:
        if channel.channel not in Channel.values:
            continue  # kept in the raw event; we only send on Viber and SMS
        current = attempts.get(channel.channel)
        if current is None:
            current = ChannelAttempt(
                recipient=recipient,
                channel=channel.channel,
                position=channel.position,
            )
            attempts[channel.channel] = current
        elif not supersedes(
            channel.code, channel.updated_on, current.status_code, current.updated_on
        ):
            if channel.reference_id and not current.reference_id:
                current.reference_id = channel.reference_id
                changed.append(current)
            continue
        merged = (
            channel.code,
            channel.description,
            channel.updated_on,
            current.reference_id or channel.reference_id,
        )
        if current.pk is not None and merged == (
            current.status_code,
            current.status_description,
            current.updated_on,
            current.reference_id,
        ):
            continue  # a duplicate: nothing to write
        (
            current.status_code,
            current.status_description,
            current.updated_on,
            current.reference_id,
        ) = merged
        changed.append(current)

    if supersedes(
        report.code,
        report.updated_on,
        recipient.status_code,
        recipient.status_updated_on,
    ):
        recipient.status_code = report.code
        recipient.status_description = (
            report.description or status_code_info(report.code).description
        )
        recipient.status_updated_on = report.updated_on
        if report.last_channel in Channel.values:
            recipient.last_channel = report.last_channel
    if not recipient.reference_id and report.reference_id:
        recipient.reference_id = report.reference_id
    if recipient.send_status in (
        Recipient.SendStatus.IN_FLIGHT,
        Recipient.SendStatus.UNCONFIRMED,
    ):
        # Telesign reports on it, so it did accept the message.
        recipient.send_status = Recipient.SendStatus.ACCEPTED
    _derive_outcome(recipient, attempts)
    _earliest_times(recipient, report)
    return changed


ATTEMPT_FIELDS = [
    "status_code",
    "status_description",
    "updated_on",
    "reference_id",
    "position",
]


def _attempts_upsert(attempts: list[ChannelAttempt]) -> None:
    """Insert new attempts and update known ones, in one statement."""
    if not attempts:
        return
    if connection.vendor != "postgresql":
        ChannelAttempt.objects.bulk_create(
            attempts,
            update_conflicts=True,
            unique_fields=["recipient", "channel"],
            update_fields=ATTEMPT_FIELDS,
        )
        return
    # One array per column (as in _rows_update): the ORM's VALUES list costs
    # more Python to build than the database takes to run it.
    columns = [
        ChannelAttempt._meta.get_field(name)
        for name in ["recipient", "channel", *ATTEMPT_FIELDS]
    ]
    names = ", ".join(c.column for c in columns)
    unnest = ", ".join(f"%s::{_array_type(c)}[]" for c in columns)
    updates = ", ".join(f"{c.column} = EXCLUDED.{c.column}" for c in columns[2:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ChannelAttempt._meta.db_table} ({names}) "  # noqa: S608 - names from model metadata
            f"SELECT * FROM unnest({unnest}) "
            f"ON CONFLICT (recipient_id, channel) DO UPDATE SET {updates}",
            [[getattr(a, c.attname) for a in attempts] for c in columns],
        )


def delivery_report_apply(*, event: CallbackEvent, report: DeliveryReport) -> str:
    """Merge a delivery or read report into its recipient and channel attempts."""
    _event_describe(event, report)
    recipient = _find_recipient(report)
    if recipient is None:
        event.processing = EVENT.ORPHAN
        event.save(update_fields=[*EVENT_FIELDS, "processing"])
        return EVENT.ORPHAN

    attempts = {a.channel: a for a in recipient.attempts.all()}
    _attempts_upsert(
        report_merge(recipient=recipient, attempts=attempts, report=report)
    )
    recipient.save(update_fields=RECIPIENT_CALLBACK_FIELDS)

    event.recipient = recipient
    event.processing = EVENT.APPLIED
    event.error = ""
    event.save(update_fields=[*EVENT_FIELDS, "recipient", "processing", "error"])
    return EVENT.APPLIED


# --- Deferred applying: store now, apply in batches --------------------------------


def callback_store(
    *, method: str, headers, body: bytes, signature: str
) -> tuple[int, dict]:
    """Store an authenticated callback for the batch applier, in one statement.

    Bad input is answered (and kept, marked failed) exactly as when applying
    at once; a good one costs one prepared INSERT, answered 200 once stored,
    or 202 when no recipient has its reference or external id (an orphan).
    """

    def refuse(error: str, answer: dict) -> tuple[int, dict]:
        event = callback_event_store(
            method=method, headers=headers, body=body, signature=signature
        )
        _event_failed(event, error)
        return 400, answer

    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return refuse(
            f"The body is not JSON: {exc}",
            {"error": f"The body is not valid JSON: {exc}"},
        )
    try:
        parsed = parse_callback(data)
    except CallbackShapeError as exc:
        return refuse(
            f"Unexpected shape: {exc}",
            {"error": "Unexpected callback shape.", "fields": exc.errors},
        )
    # Described as the inline path describes it; only the writing differs.
    event = CallbackEvent(kind=CallbackEvent.Kind.INBOUND)
    if not isinstance(parsed, InboundReply):
        _event_describe(event, parsed)
    kind = event.kind
    values = [
        CallbackEvent._meta.get_field("received_at").get_db_prep_save(
            timezone.now(), connection
        ),
        method[:8],
        CallbackEvent._meta.get_field("headers").get_db_prep_save(
            _relevant_headers(headers), connection
        ),
        body,
        signature,
        kind,
        event.status_code,
        event.reference_id,
        event.external_id,
    ]
    known = _event_insert(values)
    if kind == CallbackEvent.Kind.INBOUND or known:
        # Stored; a worker applies it within about a second.
        return 200, {"stored": True, "applied": False}
    return 202, {"stored": True, "matched": False}


# Prepared once per database connection: planning this statement (the
# recipients table has many indexes) would cost more than running it.
_PREPARED_ON: "weakref.WeakSet" = weakref.WeakSet()


def _event_insert(values: list) -> bool:
    """INSERT a received event in one round trip; True if its recipient is
    known (by reference, else by external id).

    Django checks a reused PostgreSQL connection with a round trip of its own
    before a request's first query (CONN_HEALTH_CHECKS). Here the INSERT is the
    check: on a broken connection it fails, and is sent again on a new one (at
    worst the event is stored twice, and a duplicate changes nothing).
    """
    if connection.vendor != "postgresql":
        return _event_insert_embedded(values)
    if connection.in_atomic_block:
        return _event_insert_prepared(values)
    connection.health_check_done = True
    try:
        return _event_insert_prepared(values)
    except (InterfaceError, OperationalError):
        logger.warning("database connection lost; storing the callback again")
        connection.close()
        return _event_insert_prepared(values)


def _event_insert_sql(placeholders) -> str:
    return (
        f"INSERT INTO {CallbackEvent._meta.db_table} (received_at, method, headers,"  # noqa: S608 - table name from model metadata
        " raw_body, signature, kind, processing, error, status_code, reference_id,"
        " external_id, recipient_id) VALUES ({}, {}, {}, {}, {}, {}, 'received', '',"
        " {}, {}, {}, NULL)"
    ).format(*placeholders)


def _event_insert_embedded(values: list) -> bool:
    # The embedded database plans in microseconds: no need to prepare.
    with connection.cursor() as cursor:
        cursor.execute(_event_insert_sql(["%s"] * 9), values)
    reference, external = values[7], values[8]
    return (
        bool(reference) and Recipient.objects.filter(reference_id=reference).exists()
    ) or (bool(external) and Recipient.objects.filter(external_id=external).exists())


def _event_insert_prepared(values: list) -> bool:
    recipient = Recipient._meta.db_table
    with connection.cursor() as cursor:
        raw = connection.connection
        if raw not in _PREPARED_ON:
            # Whether the recipient is known, in the same round trip: one
            # index lookup each (an OR inside one subquery would scan).
            known = (
                f" RETURNING ($8 <> '' AND EXISTS (SELECT 1 FROM {recipient}"  # noqa: S608 - table names from model metadata
                " WHERE reference_id = $8)) OR ($9 <> '' AND EXISTS (SELECT 1"
                f" FROM {recipient} WHERE external_id = $9))"
            )
            prepare = (
                "PREPARE callback_event_insert (timestamptz, varchar, jsonb, bytea,"
                " varchar, varchar, integer, varchar, varchar) AS "
            )
            cursor.execute(
                prepare + _event_insert_sql(f"${n}" for n in range(1, 10)) + known
            )
            _PREPARED_ON.add(raw)
        cursor.execute(
            "EXECUTE callback_event_insert (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            values,
        )
        return bool(cursor.fetchone()[0])


def callback_events_apply_batch(*, limit: int = 1000) -> int:
    """Apply up to `limit` stored events in one transaction and a fixed number
    of queries; returns how many were taken. Workers share the queue (rows
    locked with SKIP LOCKED on PostgreSQL)."""
    with transaction.atomic():
        # Only what applying reads; every field written is set first.
        events = list(
            CallbackEvent.objects.select_for_update(skip_locked=True)
            .filter(processing=EVENT.RECEIVED)
            .only("id", "raw_body", "processing", "recipient")
            .order_by("id")[:limit]
        )
        if not events:
            return 0
        deliveries: list[tuple[CallbackEvent, DeliveryReport]] = []
        one_by_one: list[CallbackEvent] = []
        for event in events:
            try:
                parsed = parse_callback(json.loads(bytes(event.raw_body)))
            except (ValueError, UnicodeDecodeError, CallbackShapeError):
                one_by_one.append(event)  # marked failed there, with the reason
                continue
            if isinstance(parsed, InboundReply):
                one_by_one.append(event)
            else:
                deliveries.append((event, parsed))
        orphans: list[CallbackEvent] = []
        try:
            with transaction.atomic():
                _deliveries_apply(deliveries)
            orphans += [e for e, _ in deliveries if e.processing == EVENT.ORPHAN]
        except Exception:
            # One bad event must not hold up the rest: apply each on its own.
            logger.exception("a callback batch failed; applying its events singly")
            one_by_one += [event for event, _ in deliveries]
        singly = CallbackEvent.objects.filter(pk__in=[e.pk for e in one_by_one])
        for event in singly.order_by("id"):
            try:
                callback_event_apply(event=event)
            except CallbackShapeError:
                pass  # marked failed with the reason
            if event.processing == EVENT.ORPHAN:
                orphans.append(event)
        if orphans:
            transaction.on_commit(lambda: _orphans_recheck(events=orphans))
    return len(events)


def _orphans_recheck(*, events: list[CallbackEvent]) -> int:
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
    before = {r.pk: _callback_state(r) for r in recipients}
    by_reference = {r.reference_id: r for r in recipients if r.reference_id}
    by_external = {r.external_id: r for r in recipients}
    attempts: dict[int, dict[str, ChannelAttempt]] = {r.pk: {} for r in recipients}
    for attempt in ChannelAttempt.objects.filter(recipient__in=recipients):
        attempts[attempt.recipient_id][attempt.channel] = attempt
    changed_attempts: dict[tuple[int, str], ChannelAttempt] = {}
    for event, report in deliveries:
        _event_describe(event, report)
        recipient = by_reference.get(report.reference_id) or by_external.get(
            report.external_id
        )
        if recipient is None:
            event.processing = EVENT.ORPHAN
            continue
        for attempt in report_merge(
            recipient=recipient, attempts=attempts[recipient.pk], report=report
        ):
            changed_attempts[(recipient.pk, attempt.channel)] = attempt
        if recipient.reference_id:
            by_reference[recipient.reference_id] = recipient
        event.recipient = recipient
        event.processing = EVENT.APPLIED
    _attempts_upsert(list(changed_attempts.values()))
    # A duplicate or an older report changes nothing: its row is not rewritten
    # (PostgreSQL would write a new row version and index entries all the same).
    _rows_update(
        Recipient,
        RECIPIENT_CALLBACK_FIELDS,
        [r for r in recipients if _callback_state(r) != before[r.pk]],
    )
    _rows_update(
        CallbackEvent,
        [*EVENT_FIELDS, "recipient", "processing"],
        [event for event, _ in deliveries],
    )


def _callback_state(recipient: Recipient) -> tuple:
    return tuple(getattr(recipient, name) for name in RECIPIENT_CALLBACK_FIELDS)


def _rows_update(model, fields: list[str], rows) -> None:
    """Write `fields` of many rows at once: on PostgreSQL one UPDATE … FROM
    unnest(arrays) statement (one array per column, so the statement stays
    small whatever the batch), elsewhere one UPDATE per row sent together."""
    rows = list(rows)
    if not rows:
        return
    columns = [model._meta.get_field(name) for name in fields]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = [[row.pk for row in rows]] + [
                [getattr(row, c.attname) for row in rows] for c in columns
            ]
            types = [_array_type(model._meta.pk)] + [_array_type(c) for c in columns]
            names = ", ".join(["id", *(c.column for c in columns)])
            assignments = ", ".join(f"{c.column} = v.{c.column}" for c in columns)
            unnest = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} "  # noqa: S608 - names from model metadata
                f"FROM unnest({unnest}) AS v({names}) WHERE t.id = v.id",
                arrays,
            )
            return
        assignments = ", ".join(f"{c.column} = %s" for c in columns)
        cursor.executemany(
            f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608
            [
                [
                    c.get_db_prep_save(getattr(row, c.attname), connection)
                    for c in columns
                ]
                + [row.pk]
                for row in rows
            ],
        )


def _array_type(field) -> str:
    """The PostgreSQL element type for an array of this field's values."""
    db_type = (
        field.rel_db_type(connection)
        if field.is_relation
        else field.db_type(connection)
    )
    return "text" if db_type.startswith("varchar") else db_type


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


# --- Replies ---------------------------------------------------------------------


def _keyword(text: str) -> str:
    return text.strip().strip(string.punctuation + " ").upper()


def inbound_reply_apply(*, event: CallbackEvent, reply: InboundReply) -> str:
    """Store a reply; opt-out and opt-in keywords take effect at once."""
    phone = "+" + reply.phone.lstrip("+")
    contact = Contact.objects.filter(phone=phone).first()
    # By contact where the number is known (indexed), else by the number sent to.
    recipients = Recipient.objects.filter(is_test=False).filter(
        Q(contact=contact) if contact else Q(phone=phone)
    )
    recipient = None
    if reply.original_reference_id:
        recipient = recipients.filter(
            Q(reference_id=reply.original_reference_id)
            | Q(attempts__reference_id=reply.original_reference_id)
        ).first()
    recipient = (
        recipient or recipients.exclude(sent_at=None).order_by("-sent_at").first()
    )

    keyword = _keyword(reply.text)
    action = InboundMessage.Action.NONE
    if keyword in {k.upper() for k in settings.OPT_OUT_KEYWORDS}:
        action = InboundMessage.Action.OPT_OUT
        if contact is None:
            # Remember the wish, so a later import of this number stays opted out.
            contact = Contact.objects.create(phone=phone)
        contacts_opt_out(contact_ids=[contact.pk], source=OptOutSource.REPLY)
        if recipient is not None:
            Recipient.objects.filter(pk=recipient.pk, opted_out_at=None).update(
                opted_out_at=timezone.now()
            )
    elif keyword in {k.upper() for k in settings.OPT_IN_KEYWORDS} and contact:
        action = InboundMessage.Action.OPT_IN
        contacts_opt_in(contact_ids=[contact.pk])

    InboundMessage.objects.create(
        phone=phone[:16],
        text=reply.text,
        action=action,
        contact=contact,
        recipient=recipient,
        campaign_id=recipient.campaign_id if recipient else None,
        event=event,
    )
    event.kind = CallbackEvent.Kind.INBOUND
    event.reference_id = reply.reference_id or ""
    event.recipient = recipient
    event.processing = EVENT.APPLIED
    event.error = ""
    event.save(
        update_fields=["kind", "reference_id", "recipient", "processing", "error"]
    )
    return EVENT.APPLIED


# --- Reprocessing ------------------------------------------------------------------


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
