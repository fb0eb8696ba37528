"""Seeds a finished campaign of realistic shape straight in SQL (PostgreSQL).

Outcomes by `g % 100` of the recipient's position:
  0–49 delivered on Viber (0–19 also read), 50–71 fell back and delivered by
  SMS, 72–81 failed on both channels, 82–86 still pending on Viber,
  87–89 unconfirmed, 90–94 rejected by Telesign (3101), 95–99 opted out.
Every recipient Telesign accepted has a Viber attempt; those that fell back
(delivered or not) also have an SMS attempt.
"""

from datetime import timedelta


def seed_campaign(*, name: str, recipients: int, phone_prefix: str):
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Campaign
    from campaigns.services.demo import _banner_png
    from campaigns.services.workspace import image_asset_create

    image = image_asset_create(name=name, data=_banner_png(), file_name="b.png")
    started = timezone.now() - timedelta(hours=2)
    campaign = Campaign.objects.create(
        name=name,
        image=image,
        sms_text="Hi {name}, 2 for 1 today!",
        status=Campaign.Status.COMPLETED,
        started_at=started,
        completed_at=started + timedelta(hours=1),
        max_send_rate=1000,
    )
    with connection.cursor() as cursor:
        _contacts_insert(cursor, recipients=recipients, phone_prefix=phone_prefix)
        _recipients_insert(
            cursor, campaign=campaign, started=started, phone_prefix=phone_prefix
        )
        _attempts_insert(cursor, campaign=campaign)
        cursor.execute("ANALYZE")
    return campaign


def _contacts_insert(cursor, *, recipients: int, phone_prefix: str) -> None:
    """`recipients` contacts numbered from 1; 95–99 (mod 100) opted out."""
    from campaigns.models import Contact

    contact = Contact._meta.db_table
    cursor.execute(
        f"INSERT INTO {contact} (phone, name, attributes, opt_out_source,"
        " created_at, updated_at, opted_out_at)"
        " SELECT %s || lpad(g::text, 8, '0'), 'Bench ' || g, '{}'::jsonb,"
        " CASE WHEN g %% 100 >= 95 THEN 'reply' ELSE '' END, now(), now(),"
        " CASE WHEN g %% 100 >= 95 THEN now() END"
        " FROM generate_series(1, %s) g",
        [phone_prefix, recipients],
    )


def _recipients_insert(cursor, *, campaign, started, phone_prefix: str) -> None:
    """A recipient per contact of the prefix, its outcome by `g % 100`."""
    from campaigns.models import Contact, Recipient

    contact = Contact._meta.db_table
    recipient = Recipient._meta.db_table
    # Columns derived from b = g % 100; times spread over the first hour.
    cursor.execute(
        f"""
        INSERT INTO {recipient} (
            campaign_id, contact_id, phone, is_test, external_id, reference_id,
            status_code, status_description, status_updated_on, last_channel,
            outcome, suppression_reason, failure_reason, send_status,
            send_attempts, next_attempt_at, claimed_by, claimed_at, sent_at,
            delivered_at, read_at, opted_out_at, created_at)
        SELECT %(campaign)s, c.id, c.phone, false,
            'c' || %(campaign)s || '-' || lpad(c.id::text, 10, '0'),
            CASE WHEN b < 90 THEN md5(c.id::text || 'ref') END,
            CASE WHEN b < 20 THEN 3005 WHEN b < 50 THEN 3000
                 WHEN b < 72 THEN 3000 WHEN b < 82 THEN 3031
                 WHEN b < 90 THEN NULL WHEN b < 95 THEN 3101 END,
            CASE WHEN b < 20 THEN 'Message is read' WHEN b < 72 THEN 'Delivered'
                 WHEN b < 82 THEN 'Permanent phone error'
                 WHEN b BETWEEN 90 AND 94 THEN 'Invalid phone_number'
                 ELSE '' END,
            CASE WHEN b < 82 THEN sent + interval '40 seconds' END,
            CASE WHEN b < 50 OR b BETWEEN 82 AND 86 THEN 'viber'
                 WHEN b < 82 THEN 'sms' ELSE '' END,
            CASE WHEN b < 50 THEN 'viber_delivered'
                 WHEN b < 72 THEN 'sms_delivered'
                 WHEN b < 82 OR b BETWEEN 90 AND 94 THEN 'failed'
                 WHEN b < 95 THEN 'pending' ELSE 'suppressed' END,
            CASE WHEN b >= 95 THEN 'opted_out' ELSE '' END,
            CASE WHEN b BETWEEN 72 AND 81 THEN 'SMS: 3031 Permanent phone error'
                 WHEN b BETWEEN 90 AND 94 THEN '3101 Invalid phone_number'
                 ELSE '' END,
            CASE WHEN b < 87 THEN 'accepted' WHEN b < 90 THEN 'unconfirmed'
                 WHEN b < 95 THEN 'rejected' ELSE 'skipped' END,
            CASE WHEN b < 95 THEN 1 ELSE 0 END, NULL, '', NULL,
            CASE WHEN b < 95 THEN sent END,
            CASE WHEN b < 50 THEN sent + (2 + c.id %% 20) * interval '1 second'
                 WHEN b < 72 THEN sent + (60 + c.id %% 120) * interval '1 second'
                 END,
            CASE WHEN b < 20 THEN sent + interval '5 minutes' END,
            NULL, %(started)s
        FROM (
            SELECT c.*, c.id %% 100 AS b,
                %(started)s::timestamptz
                    + (c.id %% 3600) * interval '1 second' AS sent
            FROM {contact} c WHERE c.phone LIKE %(prefix)s
        ) c
        ORDER BY c.id
        """,
        {
            "campaign": campaign.pk,
            "started": started,
            "prefix": phone_prefix + "%",
        },
    )


def _attempts_insert(cursor, *, campaign) -> None:
    """A Viber attempt for every recipient Telesign accepted, and an SMS
    attempt for those that fell back."""
    from campaigns.models import ChannelAttempt, Recipient

    recipient = Recipient._meta.db_table
    attempt = ChannelAttempt._meta.db_table
    cursor.execute(
        f"""
        INSERT INTO {attempt} (recipient_id, channel, position, reference_id,
            status_code, status_description, updated_on)
        SELECT r.id, 'viber', 0, md5(r.id::text || 'viber'),
            CASE WHEN b < 20 THEN 3005 WHEN b < 50 THEN 3000
                 WHEN b < 62 THEN 3055 WHEN b < 82 THEN 3056 ELSE 3001 END,
            CASE WHEN b < 20 THEN 'Message is read' WHEN b < 50 THEN 'Delivered'
                 WHEN b < 62 THEN 'Viber not installed'
                 WHEN b < 82 THEN 'Viber not delivered within fallback_time'
                 ELSE 'Message in progress' END,
            r.sent_at + interval '20 seconds'
        FROM (SELECT id, sent_at, contact_id %% 100 AS b FROM {recipient}
              WHERE campaign_id = %(campaign)s) r
        WHERE r.b < 87
        UNION ALL
        SELECT r.id, 'sms', 1, md5(r.id::text || 'sms'),
            CASE WHEN b < 72 THEN 3000 ELSE 3031 END,
            CASE WHEN b < 72 THEN 'Delivered' ELSE 'Permanent phone error' END,
            r.sent_at + interval '90 seconds'
        FROM (SELECT id, sent_at, contact_id %% 100 AS b FROM {recipient}
              WHERE campaign_id = %(campaign)s) r
        WHERE r.b BETWEEN 50 AND 81
        """,
        {"campaign": campaign.pk},
    )
