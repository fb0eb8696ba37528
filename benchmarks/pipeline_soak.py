"""The whole pipeline on PostgreSQL, as deployed: gunicorn (deferred
callbacks), two `run_worker` processes and the Telesign sandbox sending its
signed callbacks back. Launches one campaign and waits until every recipient
is final and every callback applied; reports the time, the outcomes, and any
callback left unapplied (orphans, failures).

    python -m benchmarks.pipeline_soak --recipients 5000
"""

import argparse
import os
import subprocess
import sys
import time

import requests

from .common import ROOT, gunicorn_command, machine, prepare_database

WEB_PORT, SANDBOX_PORT = 8134, 8135


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    db_url = prepare_database("postgres")
    from .send_throughput import seed

    campaign = seed(args.recipients, "soak")
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "CALLBACK_APPLY": "deferred",
        "TELESIGN_SANDBOX_URL": f"http://127.0.0.1:{SANDBOX_PORT}",
        "TELESIGN_CUSTOMER_ID": "",
        "TELESIGN_API_KEY": "",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    processes = [
        subprocess.Popen(
            [
                *manage,
                "telesign_sandbox",
                "--port",
                str(SANDBOX_PORT),
                "--callback-url",
                f"http://127.0.0.1:{WEB_PORT}/api/telesign/callbacks/",
                "--no-image-fetch",
            ],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen(
            gunicorn_command(WEB_PORT),
            cwd=ROOT,
            env=env,
        ),
    ] + [
        subprocess.Popen(
            [*manage, "run_worker", "--no-reload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    try:
        for url in (
            f"http://127.0.0.1:{WEB_PORT}/health/?check=web",
            f"http://127.0.0.1:{SANDBOX_PORT}/health",
        ):
            for _ in range(150):
                try:
                    requests.get(url, timeout=1)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
        from django.db.models import Count

        from campaigns.models import CallbackEvent, Recipient
        from campaigns.services import sending

        started = time.monotonic()
        sending.campaign_launch(campaign=campaign)
        final_at = None
        while time.monotonic() - started < args.timeout:
            time.sleep(1)
            recipients = Recipient.objects.filter(campaign=campaign)
            pending = recipients.filter(outcome=Recipient.Outcome.PENDING).count()
            waiting = CallbackEvent.objects.filter(processing="received").count()
            if pending == 0 and waiting == 0:
                final_at = time.monotonic()
                break
        elapsed = (final_at or time.monotonic()) - started
        outcomes = dict(
            Recipient.objects.filter(campaign=campaign)
            .values_list("outcome")
            .annotate(n=Count("id"))
        )
        sends = dict(
            Recipient.objects.filter(campaign=campaign)
            .values_list("send_status")
            .annotate(n=Count("id"))
        )
        events = dict(
            CallbackEvent.objects.values_list("processing").annotate(n=Count("id"))
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
    print(f"machine: {machine()}")
    print(
        f"{args.recipients} recipients, {args.workers} workers: "
        f"{'all final' if final_at else 'NOT all final'} after {elapsed:.1f} s"
    )
    print(f"outcomes: {outcomes}")
    print(f"send statuses: {sends}")
    print(f"callback events: {events}")


if __name__ == "__main__":
    main()
