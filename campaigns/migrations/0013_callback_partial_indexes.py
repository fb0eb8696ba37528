import django.db.models.deletion
from django.db import migrations, models

UNMATCHED = models.Q(("processing__in", ["orphan", "failed"]))


class AddIndexWithoutBlockingWrites(migrations.AddIndex):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, so callbacks keep being stored
    while a large events table is indexed; a plain CREATE INDEX elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            concurrently = schema_editor.connection.vendor == "postgresql"
            extra = {"concurrently": True} if concurrently else {}
            schema_editor.add_index(model, self.index, **extra)


class Migration(migrations.Migration):
    # CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("campaigns", "0012_roles_approver_viewer"),
    ]

    # New indexes first, so no query goes without one meanwhile.
    operations = [
        AddIndexWithoutBlockingWrites(
            model_name="callbackevent",
            index=models.Index(
                condition=models.Q(("processing", "applied"), _negated=True),
                fields=["processing", "id"],
                name="callback_unapplied_idx",
            ),
        ),
        AddIndexWithoutBlockingWrites(
            model_name="callbackevent",
            index=models.Index(
                condition=UNMATCHED,
                fields=["reference_id"],
                name="callback_unmatched_ref_idx",
            ),
        ),
        AddIndexWithoutBlockingWrites(
            model_name="callbackevent",
            index=models.Index(
                condition=UNMATCHED,
                fields=["external_id"],
                name="callback_unmatched_ext_idx",
            ),
        ),
        AddIndexWithoutBlockingWrites(
            model_name="callbackevent",
            index=models.Index(
                condition=models.Q(("recipient__isnull", False)),
                fields=["recipient"],
                name="callback_recipient_idx",
            ),
        ),
        migrations.AlterModelOptions(
            name="callbackevent",
            options={"ordering": ["-id"]},
        ),
        migrations.RemoveIndex(
            model_name="callbackevent",
            name="campaigns_c_process_b18790_idx",
        ),
        migrations.RemoveIndex(
            model_name="callbackevent",
            name="callback_reference_idx",
        ),
        migrations.RemoveIndex(
            model_name="callbackevent",
            name="callback_external_idx",
        ),
        migrations.AlterField(
            model_name="callbackevent",
            name="recipient",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="callback_events",
                to="campaigns.recipient",
            ),
        ),
        migrations.AlterField(
            model_name="channelattempt",
            name="recipient",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="attempts",
                to="campaigns.recipient",
            ),
        ),
    ]
