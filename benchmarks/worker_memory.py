"""Worker memory across a large campaign: RSS of one sending worker process.

The parent seeds N recipients and launches; a child process (a worker) sends
them all to the sandbox while its resident memory is sampled every 0.5 s.

    python -m benchmarks.worker_memory --db sqlite --recipients 100000
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

from .common import ROOT, machine, prepare_database, start_sandbox


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def child(campaign_id: int, concurrency: int) -> None:
    import django

    django.setup()
    from campaigns.models import Recipient
    from campaigns.services import sending

    samples = []
    done = threading.Event()

    def sample():
        while not done.wait(0.5):
            samples.append((time.monotonic(), rss_mb()))

    threading.Thread(target=sample, daemon=True).start()
    started = time.monotonic()
    summary = sending.campaign_send_run(
        campaign_id=campaign_id, concurrency=concurrency
    )
    done.set()
    accepted = Recipient.objects.filter(
        campaign_id=campaign_id, send_status="accepted"
    ).count()
    print(
        json.dumps(
            {
                "seconds": time.monotonic() - started,
                "sent": summary.sent,
                "accepted": accepted,
                "samples": samples,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--recipients", type=int, default=100000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=8132)
    parser.add_argument("--child-campaign", type=int)
    args = parser.parse_args()
    if args.child_campaign:
        child(args.child_campaign, args.concurrency)
        return

    prepare_database(args.db)
    from campaigns.services import sending

    from .send_throughput import seed

    campaign = seed(args.recipients, "memory")
    sending.campaign_launch(campaign=campaign)
    sandbox = start_sandbox(args.port)
    env = {
        **os.environ,
        "TELESIGN_SANDBOX_URL": f"http://127.0.0.1:{args.port}",
        "TELESIGN_CUSTOMER_ID": "",
        "TELESIGN_API_KEY": "",
    }
    try:
        output = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.worker_memory",
                "--db",
                args.db,
                "--child-campaign",
                str(campaign.pk),
                "--concurrency",
                str(args.concurrency),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        sandbox.kill()
    report = json.loads(output.strip().splitlines()[-1])
    samples = report["samples"]
    rss = [value for _, value in samples]
    tenth = rss[len(rss) // 10]
    print(f"machine: {machine()}")
    print(
        f"db={args.db} recipients={args.recipients} sent={report['sent']} "
        f"accepted={report['accepted']} in {report['seconds']:.0f} s "
        f"({report['sent'] / report['seconds']:.0f}/s): worker RSS at 10% "
        f"{tenth:.0f} MB, at the end {rss[-1]:.0f} MB, max {max(rss):.0f} MB "
        f"(target < 200 MB, flat)"
    )


if __name__ == "__main__":
    main()
