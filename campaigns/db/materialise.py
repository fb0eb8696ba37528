"""The launch's INSERT … SELECT: one recipient per distinct contact of a
campaign's audiences, written by the database in one statement.

Its column list comes from the Recipient model: the columns a launch decides
(campaign, contact, phone, external id, created_at, and the outcome,
suppression reason and send status, which depend on whether the contact opted
out) are computed here; every other column takes the model field's default,
or is left to the database when the field has a database default. A field
added to Recipient is therefore written with its default, not forgotten.
"""

from datetime import datetime

from django.db import connection
from django.db.models import NOT_PROVIDED

from ..models import Campaign, Contact, Recipient


def _padded_contact_id() -> str:
    """SQL for the contact id zero-padded to ten digits."""
    if connection.vendor == "postgresql":
        return "lpad(CAST(c.id AS TEXT), 10, '0')"
    return "substr('0000000000' || c.id, -10)"


def _db_value(field_name: str, value):
    field = Recipient._meta.get_field(field_name)
    return field.get_db_prep_save(value, connection)


def _if_opted_out(kept, opted_out) -> tuple[str, list]:
    return "CASE WHEN c.opted_out_at IS NULL THEN %s ELSE %s END", [kept, opted_out]


def _select_list(*, campaign: Campaign, now: datetime) -> tuple[list, list, list]:
    """(columns, SQL expressions, parameters) for every Recipient column."""
    decided = {
        "campaign": ("%s", [campaign.pk]),
        "contact": ("c.id", []),
        "phone": ("c.phone", []),
        "is_test": ("%s", [False]),
        # Zero-padded contact ids make external ids grow in the same order as
        # the rows are inserted, so every index takes them at its end.
        "external_id": (f"%s || {_padded_contact_id()}", [f"c{campaign.pk}-"]),
        "outcome": _if_opted_out(
            Recipient.Outcome.PENDING, Recipient.Outcome.SUPPRESSED
        ),
        "suppression_reason": _if_opted_out("", Recipient.SuppressionReason.OPTED_OUT),
        "send_status": _if_opted_out(
            Recipient.SendStatus.QUEUED, Recipient.SendStatus.SKIPPED
        ),
        # As the ORM writes it (on SQLite, UTC without an offset).
        "created_at": ("%s", [_db_value("created_at", now)]),
    }
    columns, expressions, params = [], [], []
    for field in Recipient._meta.concrete_fields:
        if field.primary_key or (
            field.name not in decided and field.db_default is not NOT_PROVIDED
        ):
            continue  # the database fills these
        columns.append(connection.ops.quote_name(field.column))
        if field.name in decided:
            expression, values = decided[field.name]
        else:
            expression, values = "%s", [_db_value(field.name, field.get_default())]
        expressions.append(expression)
        params += values
    return columns, expressions, params


def recipients_insert_from_audiences(
    *, campaign: Campaign, now: datetime, low: int, high: int
) -> None:
    """Insert the recipients for the audiences' contacts with ids from `low` to
    `high`, skipping contacts that already have one (a relaunch after a crash).

    A follow-up leaves out everyone its original has delivered to. Opted-out
    contacts become suppressed recipients, never sent.
    """
    quote = connection.ops.quote_name
    recipient = quote(Recipient._meta.db_table)
    contact = quote(Contact._meta.db_table)
    member = quote(Contact.audiences.through._meta.db_table)
    campaign_audiences = quote(Campaign.audiences.through._meta.db_table)
    columns, expressions, params = _select_list(campaign=campaign, now=now)
    params.append(campaign.pk)
    already_delivered = ""
    if campaign.follow_up_of_id:
        # A follow-up never messages anyone its original has delivered to,
        # even if that happened after the follow-up was created.
        already_delivered = f"""
        AND NOT EXISTS (
            SELECT 1 FROM {recipient} p
            WHERE p.campaign_id = %s AND p.contact_id = c.id AND p.is_test = %s
            AND p.outcome IN (%s, %s)
        )"""  # noqa: S608 - table name from model metadata
        params += [
            campaign.follow_up_of_id,
            False,
            Recipient.Outcome.VIBER_DELIVERED,
            Recipient.Outcome.SMS_DELIVERED,
        ]
    params += [low, high]
    sql = f"""
        INSERT INTO {recipient} ({", ".join(columns)})
        SELECT {", ".join(expressions)}
        FROM {contact} c
        WHERE c.id IN (
            SELECT m.contact_id FROM {member} m
            WHERE m.audience_id IN (
                SELECT ca.audience_id FROM {campaign_audiences} ca
                WHERE ca.campaign_id = %s
            )
        ){already_delivered}
        AND c.id BETWEEN %s AND %s
        ORDER BY c.id
        ON CONFLICT DO NOTHING
    """  # noqa: S608 - table names come from model metadata, values are parameters
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            # Let the de-duplication of a large audience stay in memory rather
            # than spill to disk; for this transaction only.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql, params)
