"""Audience import speed: a CSV of N rows checked and imported by a worker.

python -m benchmarks.import_speed --db postgres --rows 100000 1000000

For each size: the file is uploaded as the import page does
(`audience_import_upload`), then a real task worker (`db_worker --batch`, a
process of its own, started and stopped per step) runs the check; the import
is confirmed as the page does, and a worker runs the import. Reported: the
seconds of each step, worker start-up included, and the peak RSS of the
workers (targets: 100,000 rows < 10 s, 1,000,000 < 90 s, RSS < 300 MB).

Beside it, in the same run, a bare baseline: the same rows, already in E.164,
written by one COPY (PostgreSQL) or one executemany INSERT (SQLite) into an
unindexed copy of the contacts table: the floor for writing that much on this
machine right now, so a noisy machine shows as a slow baseline too.
"""

import argparse
import os
import resource
import subprocess
import sys
import time

from .common import ROOT, machine, prepare_database

PG_DATABASE = "wt_imports_bench"


def csv_content(rows: int, *, offset: int) -> bytes:
    """Rows as spreadsheets export them: national numbers, some with spaces,
    some with the country code but no +, a name and a city."""
    lines = ["phone,name,city"]
    for i in range(offset, offset + rows):
        digits = f"{i:06d}"
        if i % 3 == 0:
            phone = f"07911 {digits}"
        elif i % 3 == 1:
            phone = f"447911{digits}"
        else:
            phone = f"+44 7911 {digits}"
        lines.append(f"{phone},Name {i},City {i % 97}")
    return ("\n".join(lines) + "\n").encode()


def worker_run() -> float:
    """One task worker until the queue is empty; its wall time."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "db_worker",
            "--batch",
            "--queue-name",
            "*",
            "--no-startup-delay",
            "--interval",
            "0.1",
            "--verbosity",
            "0",
        ],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        check=True,
    )
    return time.perf_counter() - started


def import_measured(rows: int, *, offset: int) -> dict:
    from campaigns import services
    from campaigns.models import Audience, AudienceImport

    content = csv_content(rows, offset=offset)
    audience = Audience.objects.create(name=f"bench {rows}")
    started = time.perf_counter()
    audience_import = services.audience_import_upload(
        audience=audience, file_name="bench.csv", content=content, region="GB"
    )
    upload = time.perf_counter() - started
    del content
    check = worker_run()
    audience_import = AudienceImport.objects.get(pk=audience_import.pk)
    assert audience_import.status == AudienceImport.Status.CHECKED, (
        audience_import.failure_reason
    )
    assert audience_import.rows_valid == rows, audience_import.rows_valid
    started = time.perf_counter()
    services.audience_import_confirm(audience_import=audience_import)
    confirm = time.perf_counter() - started
    write = worker_run()
    audience_import = AudienceImport.objects.get(pk=audience_import.pk)
    assert audience_import.status == AudienceImport.Status.IMPORTED
    assert audience_import.contacts_created == rows
    assert audience.contacts.count() == rows
    return {"upload": upload, "check": check, "confirm": confirm, "import": write}


def bare_write_seconds(rows: int, *, offset: int) -> float:
    """The same rows, in E.164, written into an unindexed copy of contacts."""
    from django.db import connection

    from campaigns.models import Contact

    contact = Contact._meta.db_table
    values = [
        (f"+447911{i:06d}", f"Name {i}", f'{{"city": "City {i % 97}"}}')
        for i in range(offset, offset + rows)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TABLE bench_bare_contacts (LIKE {contact} INCLUDING DEFAULTS)"
            )
            started = time.perf_counter()
            with cursor.cursor.copy(
                "COPY bench_bare_contacts (phone, name, attributes, opt_out_source,"
                " created_at, updated_at) FROM STDIN"
            ) as copy:
                for phone, name, attributes in values:
                    copy.write_row((phone, name, attributes, "", "now", "now"))
        else:
            cursor.execute(
                "CREATE TABLE bench_bare_contacts (id integer PRIMARY KEY, phone text,"
                " name text, attributes text, opt_out_source text,"
                " created_at datetime, updated_at datetime)"
            )
            started = time.perf_counter()
            cursor.executemany(
                "INSERT INTO bench_bare_contacts (phone, name, attributes,"
                " opt_out_source, created_at, updated_at)"
                " VALUES (%s, %s, %s, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                values,
            )
        bare = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_bare_contacts")
    return bare


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    prepare_database(args.db, pg_name=PG_DATABASE)
    print(f"machine: {machine()}; load average {os.getloadavg()}")
    offset = 0
    for rows in args.rows:
        steps = import_measured(rows, offset=offset)
        bare = bare_write_seconds(rows, offset=offset)
        offset += rows
        total = steps["check"] + steps["import"]
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"db={args.db} rows={rows:,}: upload {steps['upload']:.1f} s, "
            f"check {steps['check']:.1f} s, confirm {steps['confirm']:.2f} s, "
            f"import {steps['import']:.1f} s; checked and imported in "
            f"{total:.1f} s ({rows / total:,.0f} rows/s); "
            f"worker peak RSS so far {rss_mb:.0f} MB"
        )
        print(
            f"  bare {'COPY' if args.db == 'postgres' else 'INSERT'} of the same "
            f"rows into an unindexed table: {bare:.1f} s; import / bare = "
            f"{total / bare:.1f}"
        )


if __name__ == "__main__":
    main()
