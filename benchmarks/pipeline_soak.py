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


def _pipeline_env(db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "CALLBACK_APPLY": "deferred",
        "TELESIGN_SANDBOX_URL": f"http://127.0.0.1:{SANDBOX_PORT}",
        "TELESIGN_CUSTOMER_ID": "",
        "TELESIGN_API_KEY": "",
    }


def _pipeline_start(env: dict[str, str], workers: int) -> list[subprocess.Popen]:
    """The sandbox calling back to gunicorn, gunicorn, and the workers."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    sandbox = [
        *manage,
        "telesign_sandbox",
        "--port",
        str(SANDBOX_PORT),
        "--callback-url",
        f"http://127.0.0.1:{WEB_PORT}/api/telesign/callbacks/",
        "--no-image-fetch",
    ]
    processes = [
        subprocess.Popen(sandbox, cwd=ROOT, env=env),
        subprocess.Popen(gunicorn_command(WEB_PORT), cwd=ROOT, env=env),
    ]
    for _ in range(workers):
        processes.append(
            subprocess.Popen(
                [*manage, "run_worker", "--no-reload"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return processes


def _wait_until_up() -> None:
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


def _launch_and_wait(campaign, timeout: float) -> tuple[float, bool]:
    """Seconds until every recipient is final and no callback waits."""
    from campaigns.models import CallbackEvent, Recipient
    from campaigns.services import campaign_launch

    started = time.monotonic()
    campaign_launch(campaign=campaign)
    while time.monotonic() - started < timeout:
        time.sleep(1)
        pending = Recipient.objects.filter(
            campaign=campaign, outcome=Recipient.Outcome.PENDING
        ).count()
        waiting = CallbackEvent.objects.filter(
            processing=CallbackEvent.Processing.RECEIVED
        ).count()
        if pending == 0 and waiting == 0:
            return time.monotonic() - started, True
    return time.monotonic() - started, False


def _counts(campaign) -> dict[str, dict]:
    from django.db.models import Count

    from campaigns.models import CallbackEvent, Recipient

    recipients = Recipient.objects.filter(campaign=campaign)
    return {
        "outcomes": dict(recipients.values_list("outcome").annotate(n=Count("id"))),
        "send statuses": dict(
            recipients.values_list("send_status").annotate(n=Count("id"))
        ),
        "callback events": dict(
            CallbackEvent.objects.values_list("processing").annotate(n=Count("id"))
        ),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    db_url = prepare_database("postgres")
    from .send_throughput import seed

    campaign = seed(args.recipients, "soak")
    processes = _pipeline_start(_pipeline_env(db_url), args.workers)
    try:
        _wait_until_up()
        elapsed, all_final = _launch_and_wait(campaign, args.timeout)
        counts = _counts(campaign)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
    print(f"machine: {machine()}")
    print(
        f"{args.recipients} recipients, {args.workers} workers: "
        f"{'all final' if all_final else 'NOT all final'} after {elapsed:.1f} s"
    )
    for label, values in counts.items():
        print(f"{label}: {values}")


if __name__ == "__main__":
    main()
