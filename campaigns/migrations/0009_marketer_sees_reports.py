from django.db import migrations

from campaigns.roles import roles_sync

ROLES = {
    "Marketer": [
        *(
            f"{action}_{model}"
            for model in ("imageasset", "audience", "contact", "campaign")
            for action in ("view", "add", "change", "delete")
        ),
        "launch_campaign",
        "view_campaign_report",
        "view_audienceimport",
        "view_recipient",
        "view_channelattempt",
        "view_callbackevent",
        "view_inboundmessage",
    ]
}


def forwards(apps, schema_editor):
    roles_sync(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0008_reports")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
