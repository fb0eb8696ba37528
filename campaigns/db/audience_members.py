"""Adding many contacts to an audience in one statement:
`INSERT … SELECT` from a query of contact ids (a follow-up's audience)."""

from datetime import datetime

from django.db import connection
from django.db.models import QuerySet

from ..models import AudienceMember


def audience_members_insert(
    *, audience_id: int, contact_ids: QuerySet, added_at: datetime
) -> int:
    """Add the contacts `contact_ids` selects (a values query of one column
    named contact_id) to the audience; the number of members added."""
    sql, params = contact_ids.query.sql_with_params()
    member = AudienceMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {member} (audience_id, contact_id, added_at)"  # noqa: S608
            f" SELECT %s, ids.contact_id, %s FROM ({sql}) ids",
            [audience_id, added_at, *params],
        )
        return cursor.rowcount
