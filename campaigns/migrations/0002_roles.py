from django.db import migrations

from campaigns.roles import roles_sync

# A marketer prepares campaigns and reads delivery records, which only
# Telesign's callbacks may change.
ROLES = {
    "Marketer": [
        *(
            f"{action}_{model}"
            for model in ("imageasset", "audience", "contact", "campaign")
            for action in ("view", "add", "change", "delete")
        ),
        "view_audienceimport",
        "view_recipient",
        "view_channelattempt",
        "view_callbackevent",
    ]
}


def forwards(apps, schema_editor):
    roles_sync(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
