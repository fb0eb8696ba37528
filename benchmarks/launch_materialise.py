"""Launch time for a large audience: materialising recipients in one statement.

python -m benchmarks.launch_materialise --db postgres --contacts 1000000

Beside it, in the same run, a bare baseline on PostgreSQL: the same rows
written by one INSERT … SELECT into a copy of the recipients table without
its indexes and constraints (the floor for writing that much on this
machine right now), so a noisy machine shows as a slow baseline too.
"""

import argparse
import time

from .common import machine, prepare_database


def seed_contacts(count: int):
    from django.db import connection

    from campaigns.models import Audience, Campaign, Contact
    from campaigns.services.demo import _banner_png
    from campaigns.services.workspace import image_asset_create

    audience = Audience.objects.create(name="materialise")
    contact = Contact._meta.db_table
    member = Audience.contacts.through._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {contact} (phone, name, attributes, opt_out_source,"
                " created_at, updated_at, opted_out_at)"
                " SELECT '+4479' || lpad(g::text, 8, '0'), 'Bench', '{}'::jsonb, '',"
                " now(), now(), CASE WHEN g %% 50 = 0 THEN now() END"
                " FROM generate_series(1, %s) g",
                [count],
            )
        else:
            cursor.execute(
                f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g"
                f" WHERE n < %s) INSERT INTO {contact} (phone, name, attributes,"
                " opt_out_source, created_at, updated_at, opted_out_at)"
                " SELECT '+4479' || substr('00000000' || n, -8), 'Bench', '{}', '',"
                " datetime('now'), datetime('now'),"
                " CASE WHEN n %% 50 = 0 THEN datetime('now') END FROM g",
                [count],
            )
        cursor.execute(
            f"INSERT INTO {member} (audience_id, contact_id, added_at)"
            f" SELECT %s, id, CURRENT_TIMESTAMP FROM {contact}",
            [audience.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    image = image_asset_create(name="bench", data=_banner_png(), file_name="b.png")
    campaign = Campaign.objects.create(
        name="materialise", image=image, sms_text="Hi", max_send_rate=1000
    )
    campaign.audiences.add(audience)
    return campaign


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    args = parser.parse_args()
    prepare_database(args.db)
    from campaigns.models import Recipient
    from campaigns.services import sending

    started = time.perf_counter()
    campaign = seed_contacts(args.contacts)
    seeded = time.perf_counter() - started
    bare = bare_insert_seconds(campaign) if args.db == "postgres" else None
    started = time.perf_counter()
    result = sending.campaign_launch(campaign=campaign)
    launch = time.perf_counter() - started
    assert Recipient.objects.filter(campaign=campaign).count() == args.contacts
    print(f"machine: {machine()}")
    print(
        f"db={args.db} contacts={args.contacts} (seeded in {seeded:.1f} s): "
        f"launch materialised {result.recipients} recipients "
        f"({result.suppressed} opted out, suppressed) in {launch:.1f} s "
        f"(target < 30 s)"
    )
    if bare is not None:
        print(
            f"bare INSERT … SELECT of the same rows into an unindexed copy: "
            f"{bare:.1f} s; launch / bare = {launch / bare:.2f}"
        )


def bare_insert_seconds(campaign) -> float:
    from django.db import connection

    from campaigns.models import Contact, Recipient

    recipient = Recipient._meta.db_table
    contact = Contact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE bench_bare_recipients (LIKE {recipient} INCLUDING DEFAULTS)"
        )
        cursor.execute("CHECKPOINT")
        started = time.perf_counter()
        cursor.execute(
            f"INSERT INTO bench_bare_recipients (id, campaign_id, contact_id, phone,"
            " is_test, external_id, status_description, last_channel, outcome,"
            " suppression_reason, failure_reason, send_status, send_attempts,"
            " claimed_by, created_at)"
            f" SELECT c.id, %s, c.id, c.phone, false, 'c' || lpad(c.id::text, 10, '0'),"
            " '', '', CASE WHEN c.opted_out_at IS NULL THEN 'pending' ELSE"
            " 'suppressed' END, CASE WHEN c.opted_out_at IS NULL THEN '' ELSE"
            " 'opted_out' END, '', 'queued', 0, '', now()"
            f" FROM {contact} c ORDER BY c.id",
            [campaign.pk],
        )
        bare = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_bare_recipients")
        cursor.execute("CHECKPOINT")
    return bare


if __name__ == "__main__":
    main()
