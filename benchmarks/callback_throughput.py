"""Callbacks per second through gunicorn (2 workers), versus a bare DRF view on
the same server in the same run, driven by a separate load process; then,
with CALLBACK_APPLY=deferred, how fast the batch applier applies what was
stored.

    python -m benchmarks.callback_throughput --db postgres --recipients 10000
    python -m benchmarks.callback_throughput --db postgres --recipients 10000 \
        --apply inline
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable

import requests

from .common import ROOT, gunicorn_command, machine, prepare_database

PORT = 8133


def seed(count: int) -> list[str]:
    """Recipients with references, and the signed callbacks Telesign would send:
    an intermediate fallback report, the final one, and a duplicate."""
    references = _accepted_references(count)
    # Telesign sends a message's reports seconds apart: post every message's
    # first report, then every final one, then every duplicate.
    phases: list[list[str]] = [[], [], []]
    for reference in references:
        for phase, line in enumerate(_signed_reports(reference)):
            phases[phase].append(line)
    return [line for phase in phases for line in phase]


def _accepted_references(count: int) -> Iterable[str]:
    """A launched campaign whose recipients Telesign has all accepted; their
    reference ids."""
    from django.db import connection

    from campaigns.models import Recipient

    from .send_throughput import seed as seed_campaign

    campaign = seed_campaign(count, "callbacks")
    from campaigns.services import sending

    sending.campaign_launch(campaign=campaign)
    table = Recipient._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET reference_id = UPPER(MD5(external_id)),"
            " send_status = 'accepted' WHERE campaign_id = %s",
            [campaign.pk],
        )
    return Recipient.objects.filter(campaign=campaign).values_list(
        "reference_id", flat=True
    )


def _signed_reports(reference: str) -> list[str]:
    """One message's three signed reports (fallback, final, duplicate), each a
    JSON line with the body and its Authorization header."""
    from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
    from campaigns.telesign.signing import callback_signature

    viber = {
        "viber": {
            "code": 3056,
            "description": "fallback time",
            "reference_id": "V" + reference[1:],
            "updated_on": "2026-11-28 10:00:00.000",
        }
    }
    lines = []
    for code, sms in (
        (3001, {"code": 3001, "updated_on": "2026-11-28 10:00:00"}),
        (
            3000,
            {
                "code": 3000,
                "reference_id": "S" + reference[1:],
                "updated_on": "2026-11-28 10:00:04",
            },
        ),
        (
            3000,
            {
                "code": 3000,
                "reference_id": "S" + reference[1:],
                "updated_on": "2026-11-28 10:00:04",
            },
        ),
    ):
        body = json.dumps(
            {
                "reference_id": reference,
                "external_id": None,
                "status": {
                    "code": code,
                    "description": "x",
                    "last_channel": "sms",
                    "updated_on": "2026-11-28 10:00:04:000",
                },
                "channel_status": [viber, {"sms": sms}],
            }
        )
        signature = callback_signature(SANDBOX_API_KEY, body.encode())
        lines.append(
            json.dumps({"body": body, "auth": f"TSA {SANDBOX_CUSTOMER_ID}:{signature}"})
        )
    return lines


def load(url: str, requests_file: str, threads: int) -> None:
    """The load process: post every request once, print the latencies."""
    with open(requests_file) as handle:
        items = [json.loads(line) for line in handle]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    position = iter(range(len(items)))

    def worker():
        session = requests.Session()
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                return
            item = items[index]
            started = time.perf_counter()
            response = session.post(
                url,
                data=item["body"].encode(),
                headers={
                    "Authorization": item["auth"],
                    "Content-Type": "application/json",
                },
                timeout=30,
            )
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[response.status_code] = (
                    statuses.get(response.status_code, 0) + 1
                )

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    total = time.perf_counter() - started
    latencies.sort()
    print(
        json.dumps(
            {
                "count": len(latencies),
                "seconds": total,
                "statuses": statuses,
                "p50": latencies[len(latencies) // 2],
                "p99": latencies[int(len(latencies) * 0.99)],
            }
        )
    )


def _totals(results: list[dict]) -> dict:
    """Rounds added up; p50 and p99 are the rounds' medians (each round's own
    percentiles, which is what the load process reports)."""
    statuses: dict[str, int] = {}
    for result in results:
        for code, count in result["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    return {
        "count": sum(r["count"] for r in results),
        "seconds": sum(r["seconds"] for r in results),
        "statuses": statuses,
        "p50": statistics.median(r["p50"] for r in results),
        "p99": statistics.median(r["p99"] for r in results),
    }


def run_load(url: str, requests_file: str, threads: int) -> dict:
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.callback_throughput",
            "--load",
            url,
            "--requests-file",
            requests_file,
            "--threads",
            str(threads),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--recipients", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--apply", choices=["deferred", "inline"], default="deferred")
    parser.add_argument("--rounds", type=int, default=6)
    # Threads per gunicorn worker (gthread), as the Procfile runs it: a thread
    # waiting for PostgreSQL to commit leaves the CPU to another.
    parser.add_argument("--gunicorn-threads", type=int, default=4)
    parser.add_argument("--load")
    parser.add_argument("--requests-file")
    return parser.parse_args()


def _round_files(lines: list[str], rounds: int) -> list[str]:
    """Consecutive slices of the callbacks (Telesign's order kept), one file
    per round."""
    folder = tempfile.mkdtemp(prefix="bench-")
    size = -(-len(lines) // rounds)
    round_files = []
    for index in range(rounds):
        path = os.path.join(folder, f"round-{index}.jsonl")
        with open(path, "w") as handle:
            handle.write("\n".join(lines[index * size : (index + 1) * size]))
        round_files.append(path)
    return round_files


def _server_env(db_url: str, apply: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "CALLBACK_APPLY": apply,
    }


def _measure_rounds(
    env: dict[str, str], round_files: list[str], args: argparse.Namespace
) -> list[tuple[dict, dict]]:
    """Start gunicorn, then per round the bare view's load and the real
    endpoint's load on the same slice; (bare, real) per round."""
    server = subprocess.Popen(
        gunicorn_command(PORT, threads=args.gunicorn_threads),
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{PORT}/api/schema/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{PORT}"
        rounds = []
        for path in round_files:
            rounds.append(
                (
                    run_load(base + "/bench/bare/", path, args.threads),
                    run_load(base + "/api/telesign/callbacks/", path, args.threads),
                )
            )
    finally:
        server.terminate()
        server.wait()
    return rounds


def _apply_stored(apply: str) -> tuple[int, float, int, int]:
    """Events stored, seconds the batch applier took (deferred only), events
    applied, and recipients delivered by SMS fallback."""
    from campaigns.models import CallbackEvent, Recipient
    from campaigns.services.callbacks import callbacks_apply_pending

    stored = CallbackEvent.objects.count()
    apply_seconds = 0.0
    if apply == "deferred":
        # What the workers do: drain the stored events in batches.
        started = time.perf_counter()
        callbacks_apply_pending(max_seconds=3600)
        apply_seconds = time.perf_counter() - started
    applied = CallbackEvent.objects.filter(processing="applied").count()
    final = Recipient.objects.filter(outcome="sms_delivered").count()
    return stored, apply_seconds, applied, final


def _print_results(
    args: argparse.Namespace,
    rounds: list[tuple[dict, dict]],
    applying: tuple[int, float, int, int],
) -> None:
    stored, apply_seconds, applied, final = applying
    bare = _totals([b for b, _ in rounds])
    real = _totals([r for _, r in rounds])
    ratios = sorted(
        (r["count"] / r["seconds"]) / (b["count"] / b["seconds"]) for b, r in rounds
    )
    bare_rate = bare["count"] / bare["seconds"]
    real_rate = real["count"] / real["seconds"]
    print(f"machine: {machine()}")
    print(
        f"bare DRF view: {bare_rate:.0f} req/s, p50 {bare['p50'] * 1000:.1f} ms, "
        f"p99 {bare['p99'] * 1000:.1f} ms, {bare['statuses']}"
    )
    print(
        f"callbacks ({args.apply}): {real_rate:.0f} req/s, p50 "
        f"{real['p50'] * 1000:.1f} ms, p99 {real['p99'] * 1000:.1f} ms, "
        f"{real['statuses']}"
    )
    print(
        f"db={args.db} callbacks={real['count']} stored={stored} applied={applied}"
        f" recipients delivered by SMS fallback={final}: ratio median of "
        f"{len(ratios)} rounds {statistics.median(ratios):.3f} (rounds "
        f"{', '.join(f'{r:.2f}' for r in ratios)}; overall "
        f"{real_rate / bare_rate:.3f}) (target >= 0.7)"
    )
    if args.apply == "deferred":
        print(
            f"batch applier: {applied} events in {apply_seconds:.2f} s = "
            f"{applied / apply_seconds:.0f} applied status updates/s "
            f"(target >= 2000/s)"
        )
    else:
        print(
            f"applied in the requests: {applied / real['seconds']:.0f} status "
            f"updates/s (target >= 2000/s)"
        )


def main():
    args = _arguments()
    if args.load:
        load(args.load, args.requests_file, args.threads)
        return

    db_url = prepare_database(args.db)
    lines = seed(args.recipients)
    # Rounds alternate the bare view and the real endpoint on consecutive
    # slices of the callbacks (Telesign's order kept), so the machine's noise
    # falls on both alike; the ratio reported is the median of the rounds'.
    round_files = _round_files(lines, args.rounds)
    rounds = _measure_rounds(_server_env(db_url, args.apply), round_files, args)
    applying = _apply_stored(args.apply)
    _print_results(args, rounds, applying)


if __name__ == "__main__":
    main()
