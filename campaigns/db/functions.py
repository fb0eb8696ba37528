"""Database functions the ORM lacks, written once per database (PostgreSQL
and SQLite), for the report's time buckets and the export's time text."""

from django.db.models import CharField, Func, IntegerField


class EpochBucket(Func):
    """Seconds since the epoch, rounded down to a multiple of `size`."""

    output_field = IntegerField()

    def __init__(self, expression, size: int):
        self.size = int(size)
        super().__init__(expression)

    def as_postgresql(self, compiler, connection):
        template = (
            f"(floor(extract(epoch from %(expressions)s) / {self.size})"
            f" * {self.size})::bigint"
        )
        return self.as_sql(compiler, connection, template=template)

    def as_sqlite(self, compiler, connection):
        # Four percent signs: one pair for this template, one for the driver.
        template = (
            f"(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
            f" / {self.size} * {self.size})"
        )
        return self.as_sql(compiler, connection, template=template)


class IsoTimestamp(Func):
    """A time as ISO 8601 text in UTC, e.g. 2026-05-04T10:00:10.000000+00:00."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection):
        template = (
            "to_char(%(expressions)s AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')'
        )
        return self.as_sql(compiler, connection, template=template)

    def as_sqlite(self, compiler, connection):
        # Django keeps SQLite times as UTC text with microseconds.
        template = (
            "CASE WHEN %(expressions)s IS NULL THEN NULL ELSE "
            "replace(%(expressions)s, ' ', 'T') || '+00:00' END"
        )
        return self.as_sql(compiler, connection, template=template)
