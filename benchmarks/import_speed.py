"""Audience import speed: a CSV of N rows checked and imported by a worker.

python -m benchmarks.import_speed --db postgres --rows 100000 1000000

For each size: the file is uploaded as the import page does
(`audience_import_upload`); a real task worker (`db_worker`, a process of its
own, running for the whole benchmark as a deployment's workers do) runs the
check; the import is confirmed as the page does, and the worker runs the
import. Reported: the seconds from upload to "ready to confirm" and from
confirmation to "imported", as the page would see them, and the peak RSS of
the worker and of each process helping it parse (sampled every 50 ms).
Targets: 100,000 rows < 10 s, 1,000,000 < 90 s, RSS < 300 MB.

Beside it, in the same run, a bare baseline: the same rows, already in E.164,
written by one COPY (PostgreSQL) or one executemany INSERT (SQLite) into an
unindexed copy of the contacts table: the floor for writing that much on this
machine right now, so a noisy machine shows as a slow baseline too.
"""

import argparse
import os
import subprocess
import sys
import time

from .common import ROOT, machine, prepare_database

PG_DATABASE = "campaigns_import_bench"
# UK mobile numbers from +44 7100 000000: all of +44 71xx xxxxxx to 73xx are
# valid (phonenumbers' pattern 7[1-3]\d{8}), so any run's rows are.
FIRST_MOBILE = 7_100_000_000
# Time the worker is given to start before the first upload.
WORKER_START_SECONDS = 5


def csv_content(rows: int, *, offset: int) -> bytes:
    """Rows as spreadsheets export them: national numbers, some with spaces,
    some with the country code but no +, a name and a city."""
    lines = ["phone,name,city"]
    for i in range(offset, offset + rows):
        national = f"{FIRST_MOBILE + i}"
        if i % 3 == 0:
            phone = f"0{national[:4]} {national[4:]}"
        elif i % 3 == 1:
            phone = f"44{national}"
        else:
            phone = f"+44 {national[:4]} {national[4:]}"
        lines.append(f"{phone},Name {i},City {i % 97}")
    return ("\n".join(lines) + "\n").encode()


def rows_valid_check(rows: int) -> None:
    """Refuse to start unless a sample of the rows to import is all valid."""
    from campaigns.audience_csv import audience_csv_parse

    for offset in range(0, rows, max(1, rows // 200)):
        parsed = audience_csv_parse(csv_content(3, offset=offset), default_region="GB")
        if parsed.rejected:
            raise SystemExit(f"benchmark rows are refused: {parsed.rejected[0]}")


class Worker:
    """One task worker (`db_worker`, as run_worker runs it) in a process of
    its own for the whole run, and the peak memory of it and its helpers."""

    def __init__(self):
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "db_worker",
                "--queue-name",
                "*",
                "--no-startup-delay",
                "--interval",
                "0.05",
                "--verbosity",
                "0",
            ],
            cwd=ROOT,
            env={**os.environ, "LOG_LEVEL": "WARNING"},
        )
        self.peak_mb = {"worker": 0.0, "helper": 0.0}

    def sample(self) -> None:
        for pid, rss_mb in _process_tree_rss(self.process.pid).items():
            role = "worker" if pid == self.process.pid else "helper"
            self.peak_mb[role] = max(self.peak_mb[role], rss_mb)

    def wait_until(self, done, *, timeout: float = 600) -> float:
        """Seconds until `done()` is true, sampling memory meanwhile."""
        started = time.perf_counter()
        while not done():
            if time.perf_counter() - started > timeout:
                raise SystemExit("timed out")
            self.sample()
            time.sleep(0.05)
        return time.perf_counter() - started

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _process_tree_rss(root: int) -> dict[int, float]:
    """RSS in MB of `root` and of every process descending from it."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier += children
    rss = {}
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss[pid] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return rss


def import_measured(worker: Worker, rows: int, *, offset: int) -> dict:
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
    imports = AudienceImport.objects.filter(pk=audience_import.pk)
    running = AudienceImport.RUNNING_STATUSES
    check = worker.wait_until(lambda: not imports.filter(status__in=running).exists())
    audience_import = imports.get()
    assert audience_import.status == AudienceImport.Status.CHECKED, (
        audience_import.failure_reason
    )
    assert audience_import.rows_valid == rows, audience_import.rows_valid
    started = time.perf_counter()
    services.audience_import_confirm(audience_import=audience_import)
    confirm = time.perf_counter() - started
    write = worker.wait_until(lambda: not imports.filter(status__in=running).exists())
    audience_import = imports.get()
    assert audience_import.status == AudienceImport.Status.IMPORTED, (
        audience_import.failure_reason
    )
    assert audience_import.contacts_created == rows
    assert audience.contacts.count() == rows
    return {"upload": upload, "check": check, "confirm": confirm, "import": write}


def bare_write_seconds(rows: int, *, offset: int) -> float:
    """The same rows, in E.164, written into an unindexed copy of contacts."""
    from django.db import connection

    from campaigns.models import Contact

    contact = Contact._meta.db_table
    values = [
        (f"+44{FIRST_MOBILE + i}", f"Name {i}", f'{{"city": "City {i % 97}"}}')
        for i in range(offset, offset + rows)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TABLE bench_bare_contacts (LIKE {contact}"
                " INCLUDING DEFAULTS INCLUDING IDENTITY)"
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
    rows_valid_check(sum(args.rows))
    prepare_database(args.db, pg_name=PG_DATABASE)
    print(f"machine: {machine()}")
    worker = Worker()
    time.sleep(WORKER_START_SECONDS)  # measured from a running worker on
    try:
        offset = 0
        for rows in args.rows:
            load = os.getloadavg()[0]
            steps = import_measured(worker, rows, offset=offset)
            bare = bare_write_seconds(rows, offset=offset)
            offset += rows
            total = steps["check"] + steps["import"]
            print(
                f"db={args.db} rows={rows:,} (load average {load:.1f}): "
                f"upload {steps['upload']:.1f} s, check {steps['check']:.1f} s, "
                f"confirm {steps['confirm']:.2f} s, import {steps['import']:.1f} s;"
                f" checked and imported in {total:.1f} s "
                f"({rows / total:,.0f} rows/s)"
            )
            print(
                f"  bare {'COPY' if args.db == 'postgres' else 'INSERT'} of the "
                f"same rows into an unindexed table: {bare:.1f} s; "
                f"import / bare = {total / bare:.1f}"
            )
            print(
                f"  peak RSS so far: worker {worker.peak_mb['worker']:.0f} MB, "
                f"each parsing helper {worker.peak_mb['helper']:.0f} MB"
            )
    finally:
        worker.stop()


if __name__ == "__main__":
    main()
