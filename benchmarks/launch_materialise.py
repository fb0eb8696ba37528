"""Launch time for a large audience: materialising recipients in one statement.

python -m benchmarks.launch_materialise --db postgres --contacts 1000000
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


if __name__ == "__main__":
    main()
