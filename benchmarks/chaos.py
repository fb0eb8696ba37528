"""Chaos: the app's own workers send a campaign through a faulty Telesign
while workers are killed with SIGKILL at random moments and the database
restarts once. Counts what matters: nobody accepted twice, nobody lost, every
recipient final without a person acting.

    python -m benchmarks.chaos --recipients 3000 --workers 3 --kills 20

Everything runs in its own processes on loopback: a private PostgreSQL server
(initdb in a temporary directory, so restarting it disturbs nothing else),
the web app as the Procfile runs it (gunicorn, receiving the callbacks), the
Telesign sandbox with its fault knobs (503s, 429s, answers that never come
after the message was accepted), and `run_worker` processes. Reconciling and
claim recovery are set short so the run ends in minutes.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import requests

from .common import ROOT, gunicorn_command, machine

sys.path.insert(0, str(ROOT))

from tests.workers import free_port

WORKER_SETTINGS = {
    "SEND_CONCURRENCY": "8",
    "SEND_CLAIM_TIMEOUT": "5",
    # Longer than a callback can take here: Telesign's (and the sandbox's)
    # four attempts span 30 s, and a loaded two-core machine answers slowly.
    "SEND_RECONCILE_AFTER": "60",
    "SEND_TASK_SLICE_SECONDS": "5",
    "ENGINE_TICK_SECONDS": "1",
    "STATUS_CHECK_AFTER": "15",
    "TELESIGN_READ_TIMEOUT": "2",
}


class Run:
    """The processes of one chaos run and what it measured."""

    def __init__(self, args, database_url: str):
        self.args = args
        self.web_port, self.sandbox_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "chaos-benchmark-only",
            "DEBUG": "false",
            "TELESIGN_SANDBOX_WITHOUT_DEBUG": "true",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "ERROR",
            "TELESIGN_CUSTOMER_ID": "",
            "TELESIGN_API_KEY": "",
            "TELESIGN_SANDBOX_URL": f"http://127.0.0.1:{self.sandbox_port}",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.web_port}",
            **WORKER_SETTINGS,
        }
        self.workers: list[subprocess.Popen] = []
        self.others: list[subprocess.Popen] = []
        self.unconfirmed_at_kill: list[int] = []

    def manage(self, *command: str) -> None:
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *command],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def spawn(self, command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start_services(self) -> None:
        self.others.append(self.spawn(gunicorn_command(self.web_port)))
        self.others.append(
            self.spawn(
                [
                    sys.executable,
                    str(ROOT / "manage.py"),
                    "telesign_sandbox",
                    "--port",
                    str(self.sandbox_port),
                    "--callback-url",
                    f"http://127.0.0.1:{self.web_port}/api/telesign/callbacks/",
                    "--time-scale",
                    "0.01",
                    "--no-image-fetch",
                    "--rate-5xx",
                    str(self.args.rate_5xx),
                    "--rate-429",
                    str(self.args.rate_429),
                    "--rate-timeout-after-accept",
                    str(self.args.rate_late),
                    "--seed",
                    "11",
                ]
            )
        )
        for url in (self.web_url("/health/"), self.sandbox_url("/health")):
            wait_until(lambda u=url: answers(u), what=url, timeout=60)

    def web_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    def sandbox_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}{path}"

    def start_worker(self) -> None:
        self.workers.append(
            self.spawn([sys.executable, str(ROOT / "manage.py"), "run_worker"])
        )

    def kill_one(self) -> None:
        """SIGKILL a random worker; count what it held in flight; replace it."""
        from campaigns.models import Recipient

        alive = [w for w in self.workers if w.poll() is None]
        victim = random.choice(alive)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        self.unconfirmed_at_kill.append(
            Recipient.objects.filter(
                send_status=Recipient.SendStatus.IN_FLIGHT,
                claimed_by__contains=f":{victim.pid}:",
            ).count()
        )
        self.start_worker()

    def stop(self) -> None:
        for process in self.workers + self.others:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()


def answers(url: str) -> bool:
    """Whether anything answers there (health says 503 until workers run)."""
    try:
        requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return True


def wait_until(condition, *, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def seed_and_launch(count: int, rate: int):
    from campaigns.models import Audience, Campaign, Contact
    from campaigns.services import sending
    from campaigns.services.demo import _banner_png
    from campaigns.services.workspace import image_asset_create

    Contact.objects.bulk_create(
        [Contact(phone=f"+4479{i:08d}", name="Chaos") for i in range(count)],
        batch_size=5000,
    )
    audience = Audience.objects.create(name="chaos")
    audience.contacts.add(*Contact.objects.values_list("id", flat=True))
    image = image_asset_create(name="chaos", data=_banner_png(), file_name="c.png")
    campaign = Campaign.objects.create(
        name="chaos",
        image=image,
        sms_text="Hi {first_name}",
        max_send_rate=rate,
        fallback_time=300,
    )
    campaign.audiences.add(audience)
    sending.campaign_launch(campaign=campaign)
    return campaign


def all_final(campaign) -> bool:
    from django.db import close_old_connections

    from campaigns.models import Recipient

    close_old_connections()
    try:
        return not Recipient.objects.filter(
            campaign=campaign, outcome=Recipient.Outcome.PENDING
        ).exists()
    except Exception:  # the database is restarting
        return False


def describe(external_id: str, entries: list[dict]) -> None:
    """What happened to one recipient that went wrong, for the log."""
    from campaigns.models import CallbackEvent, Recipient

    recipient = Recipient.objects.get(external_id=external_id)
    events = CallbackEvent.objects.filter(external_id=external_id).values_list(
        "processing", "received_at", "recipient_id"
    )
    print(
        f"  {external_id}: {recipient.send_status}/{recipient.outcome} "
        f"sent {recipient.sent_at} reconciled {recipient.reconciled_at} "
        f"'{recipient.status_description}' events {list(events)} sandbox "
        f"{[(e['at'], e.get('code')) for e in entries if e['external_id'] == external_id]}",  # noqa: E501
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--rate", type=int, default=60, help="messages per second")
    parser.add_argument("--rate-5xx", type=float, default=0.10)
    parser.add_argument("--rate-429", type=float, default=0.10)
    parser.add_argument("--rate-late", type=float, default=0.05)
    parser.add_argument("--no-database-restart", action="store_true")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    random.seed(3)

    # Django is set up for the private server's address before it exists (the
    # test helper that runs the server needs Django's apps).
    port = free_port()
    run = Run(args, f"postgres://postgres@127.0.0.1:{port}/postgres")
    os.environ.update(run.env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.db import close_old_connections, connection

    from campaigns.models import AuditEntry, Recipient
    from tests.pg_private import PrivateServer, server_programs

    programs = server_programs()
    if programs is None:
        raise SystemExit("PostgreSQL's server programs (initdb) are not installed")
    server = PrivateServer(programs)
    server.port = port
    server.create().start()

    try:
        run.manage("migrate", "--no-input")
        campaign = seed_and_launch(args.recipients, args.rate)
        run.start_services()
        started = time.monotonic()
        for _ in range(args.workers):
            run.start_worker()
        restart_at, restart_seconds = args.kills // 2, 0.0
        for kill in range(args.kills):
            time.sleep(random.uniform(0.5, 2.5))
            close_old_connections()
            run.kill_one()
            if kill == restart_at and not args.no_database_restart:
                connection.close()
                down = time.monotonic()
                server.restart("fast")
                restart_seconds = time.monotonic() - down
        kills_done_at = time.monotonic() - started
        wait_until(lambda: all_final(campaign), what="every recipient final",
                   timeout=args.timeout)  # fmt: skip
        elapsed = time.monotonic() - started
        close_old_connections()
        ledger = requests.get(run.sandbox_url("/sandbox/ledger?full=1"), timeout=30)
        entries = ledger.json()["entries"]
        accepted = Counter(e["external_id"] for e in entries if e.get("code") == 3001)
        faults = Counter(e.get("code") for e in entries if e.get("code") != 3001)
        recipients = Recipient.objects.filter(campaign=campaign)
        ours = set(recipients.values_list("external_id", flat=True))
        reconciled = recipients.filter(reconciled_at__isnull=False).count()
        audits = AuditEntry.objects.filter(action=AuditEntry.Action.RECONCILED).count()
        outcomes = Counter(recipients.values_list("outcome", flat=True))
        duplicates = sum(1 for n in accepted.values() if n > 1)
        # Lost: never accepted by Telesign (a recipient that failed after
        # every attempt was refused counts here too, as it was not messaged).
        lost = len(ours - set(accepted))
        twice = [x for x, n in accepted.items() if n > 1][:5]
        for external_id in twice + list(ours - set(accepted))[:3]:
            describe(external_id, entries)
    finally:
        run.stop()
        server.destroy()
    print(f"machine: {machine()}")
    print(
        f"recipients={args.recipients} workers={args.workers} rate={args.rate}/s "
        f"faults: 503={faults.get(3500, 0)} 429={faults.get(3204, 0)} "
        f"(answers withheld after accepting: share {args.rate_late})"
    )
    print(
        f"kills={len(run.unconfirmed_at_kill)} (done by {kills_done_at:.0f} s) "
        f"database restarts={0 if args.no_database_restart else 1} "
        f"(down {restart_seconds:.1f} s) "
        f"all final after {elapsed:.0f} s"
    )
    print(
        f"in flight at each kill (max {max(run.unconfirmed_at_kill, default=0)}, "
        f"SEND_CONCURRENCY {WORKER_SETTINGS['SEND_CONCURRENCY']}): "
        f"{run.unconfirmed_at_kill}"
    )
    print(
        f"accepted twice={duplicates} lost={lost} reconciled={reconciled} "
        f"(audit entries {audits}) outcomes={dict(outcomes)}"
    )
    if duplicates or lost:
        raise SystemExit("FAILED: a recipient was sent twice or lost")


if __name__ == "__main__":
    main()
