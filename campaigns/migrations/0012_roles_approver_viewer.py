from django.db import migrations

from campaigns.roles import roles_sync

# Reading reports: what every role can see.
REPORT_READER = [
    "view_campaign",
    "view_campaign_report",
    "view_imageasset",
    "view_recipient",
    "view_channelattempt",
]

ROLES = {
    # Prepares and launches.
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
        "view_auditentry",
    ],
    # Approves launches: sees what will be sent and to whom, changes nothing.
    "Approver": [
        *REPORT_READER,
        "approve_campaign",
        "view_audience",
        "view_contact",
        "view_auditentry",
    ],
    # Reads reports only.
    "Viewer": REPORT_READER,
}


def forwards(apps, schema_editor):
    roles_sync(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0011_governance")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
