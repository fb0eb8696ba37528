"""The attribute names the contacts of some audiences have, listed by the
database (`jsonb_object_keys` on PostgreSQL, `json_each` on SQLite) rather
than by reading every contact's attributes into Python."""

from django.db import connection

from ..models import AudienceMember, Contact


def audience_attribute_keys(*, audience_ids: list[int]) -> set[str]:
    """Every key of the attributes of the contacts in these audiences."""
    if not audience_ids:
        return set()
    contact, member = Contact._meta.db_table, AudienceMember._meta.db_table
    marks = ", ".join(["%s"] * len(audience_ids))
    if connection.vendor == "postgresql":
        keys = (
            "jsonb_object_keys(CASE WHEN jsonb_typeof(c.attributes) = 'object' "
            "THEN c.attributes ELSE '{}'::jsonb END) AS k(key)"
        )
        join = f"CROSS JOIN LATERAL {keys}"
    else:
        join = (
            "JOIN json_each(CASE WHEN json_type(c.attributes) = 'object' "
            "THEN c.attributes ELSE '{}' END) AS k"
        )
    sql = (
        f"SELECT DISTINCT k.key FROM {contact} c"  # noqa: S608 - no input in it
        f" JOIN {member} m ON m.contact_id = c.id {join}"
        f" WHERE m.audience_id IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, audience_ids)
        return {row[0] for row in cursor.fetchall()}
