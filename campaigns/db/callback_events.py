"""Storing a received callback in one round trip: the prepared INSERT.

The column list is the model's own (every concrete field but the id), so a new
field on CallbackEvent is stored without touching this statement. A body
already stored (same `body_sha256`) is not stored again: the same statement
counts the copy on the stored event instead (received_count, last_received_at).
"""

import logging
import weakref

from django.db import InterfaceError, OperationalError, connection

from ..models import CallbackEvent, Recipient

logger = logging.getLogger(__name__)

STATEMENT = "callback_event_insert"

# Prepared once per database connection: planning this statement (the
# recipients table has many indexes) would cost more than running it.
_PREPARED_ON: "weakref.WeakSet" = weakref.WeakSet()


def event_columns() -> list:
    """The fields the INSERT writes, in the model's order."""
    return [f for f in CallbackEvent._meta.concrete_fields if not f.primary_key]


def callback_event_insert(event: CallbackEvent) -> bool:
    """INSERT an unsaved event in one round trip, or count one more copy of the
    event stored with the same body; True if its recipient is known (by
    reference, else by external id). The event is not given its id.

    Django checks a reused PostgreSQL connection with a round trip of its own
    before a request's first query (CONN_HEALTH_CHECKS). Here the INSERT is the
    check: on a broken connection it fails, and is sent again on a new one (at
    worst the event is stored twice, and a duplicate changes nothing).
    """
    # As the ORM's save does: defaults and received_at filled in, then adapted.
    values = [
        f.get_db_prep_save(f.pre_save(event, add=True), connection)
        for f in event_columns()
    ]
    if connection.vendor != "postgresql":
        return _insert_embedded(values, event)
    if connection.in_atomic_block:
        return _insert_prepared(values)
    connection.health_check_done = True
    try:
        return _insert_prepared(values)
    except (InterfaceError, OperationalError):
        logger.warning("database connection lost; storing the callback again")
        connection.close()
        return _insert_prepared(values)


def _insert_sql(placeholders: list[str]) -> str:
    table = CallbackEvent._meta.db_table
    names = ", ".join(f.column for f in event_columns())
    column = CallbackEvent._meta.get_field
    digest, count, last = (
        column(name).column
        for name in ("body_sha256", "received_count", "last_received_at")
    )
    return (
        f"INSERT INTO {table} ({names}) "  # noqa: S608 - names from model metadata
        f"VALUES ({', '.join(placeholders)}) "
        f"ON CONFLICT ({digest}) DO UPDATE SET {count} = {table}.{count} + 1, "
        f"{last} = excluded.{column('received_at').column}"
    )


def callback_event_store_once(event: CallbackEvent) -> CallbackEvent:
    """INSERT an unsaved event, or count one more copy of the event stored with
    the same body, in one statement. The event is given the stored row's id,
    copies received and processing state: a copy (received_count > 1) keeps the
    first one's state."""
    values = [
        f.get_db_prep_save(f.pre_save(event, add=True), connection)
        for f in event_columns()
    ]
    names = ("id", "received_count", "processing")
    returning = ", ".join(CallbackEvent._meta.get_field(n).column for n in names)
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(["%s"] * len(values)) + f" RETURNING {returning}", values
        )
        event.pk, event.received_count, event.processing = cursor.fetchone()
    event._state.adding = False
    return event


def _insert_embedded(values: list, event: CallbackEvent) -> bool:
    # The embedded database plans in microseconds: no need to prepare.
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(["%s"] * len(values)), values)
    reference, external = event.reference_id, event.external_id
    return (
        bool(reference) and Recipient.objects.filter(reference_id=reference).exists()
    ) or (bool(external) and Recipient.objects.filter(external_id=external).exists())


def _prepare_sql() -> str:
    columns = event_columns()
    types = ", ".join(f.db_type(connection).split("(")[0] for f in columns)
    position = {f.name: f"${n}" for n, f in enumerate(columns, start=1)}
    reference, external = position["reference_id"], position["external_id"]
    recipients = Recipient._meta.db_table
    by_reference = Recipient._meta.get_field("reference_id").column
    by_external = Recipient._meta.get_field("external_id").column
    # Whether the recipient is known, in the same round trip: one index lookup
    # each (an OR inside one subquery would scan).
    known = (
        f" RETURNING ({reference} <> '' AND EXISTS (SELECT 1 FROM {recipients}"  # noqa: S608 - names from model metadata
        f" WHERE {by_reference} = {reference})) OR ({external} <> '' AND EXISTS"
        f" (SELECT 1 FROM {recipients} WHERE {by_external} = {external}))"
    )
    return (
        f"PREPARE {STATEMENT} ({types}) AS "
        + _insert_sql(list(position.values()))
        + known
    )


def _insert_prepared(values: list) -> bool:
    with connection.cursor() as cursor:
        raw = connection.connection
        if raw not in _PREPARED_ON:
            cursor.execute(_prepare_sql())
            _PREPARED_ON.add(raw)
        placeholders = ", ".join(["%s"] * len(values))
        cursor.execute(f"EXECUTE {STATEMENT} ({placeholders})", values)
        return bool(cursor.fetchone()[0])
