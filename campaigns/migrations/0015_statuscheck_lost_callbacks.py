"""Asking Telesign for the status of messages whose callbacks never came:
when each recipient was last asked and why asking ended, the status-check
answers as callback events of their own kind, the engine's tally, and an
index of the accepted messages still waiting for a final status."""

from django.db import migrations, models


class AddIndexWithoutBlockingWrites(migrations.AddIndex):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, so sending goes on while a
    large recipients table is indexed; a plain CREATE INDEX elsewhere."""

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
        ("campaigns", "0014_audit_not_started"),
    ]

    operations = [
        migrations.AddField(
            model_name="recipient",
            name="status_checked_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When Telesign was last asked for its status (no final "
                "callback had come).",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="recipient",
            name="status_check_end",
            field=models.CharField(
                blank=True,
                choices=[
                    ("expired", "Telesign no longer keeps its status (after 12 hours)"),
                    ("unknown_ref", "Telesign does not know its reference"),
                ],
                help_text="Why Telesign is no longer asked for its status.",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="callbackevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("delivery", "Delivery status"),
                    ("read", "Read notification"),
                    ("inbound", "Inbound reply"),
                    ("status_check", "Status check (our request)"),
                    ("unknown", "Unknown"),
                ],
                default="unknown",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="callbackevent",
            name="signature",
            field=models.CharField(
                choices=[
                    ("valid", "Valid"),
                    ("unsigned_allowed", "Unsigned (allowed by setting)"),
                    ("fetched", "Fetched by us from Telesign"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="enginestate",
            name="status_checks_asked",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="enginestate",
            name="status_checks_found",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="enginestate",
            name="status_checks_ended",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="enginestate",
            name="status_check_last_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="enginestate",
            name="status_check_problem",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="enginestate",
            name="status_check_problem_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        AddIndexWithoutBlockingWrites(
            model_name="recipient",
            index=models.Index(
                condition=models.Q(("outcome", "pending"), ("send_status", "accepted")),
                fields=["campaign", "sent_at"],
                name="recipient_awaiting_status_idx",
            ),
        ),
    ]
