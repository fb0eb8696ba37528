from django.db import migrations, models


class AddUniqueWithoutBlockingWrites(migrations.AddConstraint):
    """On PostgreSQL, build the unique index CONCURRENTLY and then make it the
    constraint, so callbacks keep being stored while a large events table is
    indexed; a plain ADD CONSTRAINT elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        connection = schema_editor.connection
        if not self.allow_migrate_model(connection.alias, model):
            return
        if connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        table = schema_editor.quote_name(model._meta.db_table)
        name = schema_editor.quote_name(self.constraint.name)
        columns = ", ".join(
            schema_editor.quote_name(model._meta.get_field(f).column)
            for f in self.constraint.fields
        )
        schema_editor.execute(
            f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({columns})"
        )
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
        )


class Migration(migrations.Migration):
    # CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("campaigns", "0017_websec_login_throttle"),
    ]

    # Events stored before keep an empty hash: they are not compared (NULLs
    # never conflict), and hashing every stored body here would rewrite the
    # whole table.
    operations = [
        migrations.AddField(
            model_name="callbackevent",
            name="body_sha256",
            field=models.BinaryField(editable=False, max_length=32, null=True),
        ),
        migrations.AddField(
            model_name="callbackevent",
            name="last_received_at",
            field=models.DateTimeField(
                blank=True, help_text="When the last copy arrived.", null=True
            ),
        ),
        migrations.AddField(
            model_name="callbackevent",
            name="received_count",
            field=models.PositiveIntegerField(
                default=1, help_text="Copies of this exact body received."
            ),
        ),
        AddUniqueWithoutBlockingWrites(
            model_name="callbackevent",
            constraint=models.UniqueConstraint(
                fields=("body_sha256",), name="callback_body_once"
            ),
        ),
    ]
