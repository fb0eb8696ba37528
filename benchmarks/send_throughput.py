"""Sends per second: the sending engine versus a bare `requests` thread pool.

Both send the same number of messages at the same concurrency to the sandbox
(its own process, with added latency), in the same run, alternating rounds.
The engine's time includes all its database bookkeeping (claims, slots, in
flight marks, results).

    python -m benchmarks.send_throughput --db sqlite --recipients 10000
"""

import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from .common import machine, prepare_database, start_sandbox


def seed(count: int, tag: str):
    from django.db import connection

    from campaigns.models import Audience, Campaign, Contact
    from campaigns.services.demo import _banner_png
    from campaigns.services.workspace import image_asset_create

    start = Contact.objects.count()
    Contact.objects.bulk_create(
        [Contact(phone=f"+4479{start + i:08d}", name="Bench") for i in range(count)],
        batch_size=5000,
    )
    audience = Audience.objects.create(name=f"bench {tag}")
    ids = list(Contact.objects.order_by("-id").values_list("id", flat=True)[:count])
    Audience.contacts.through.objects.bulk_create(
        [Audience.contacts.through(audience=audience, contact_id=i) for i in ids],
        batch_size=5000,
    )
    image = image_asset_create(
        name=f"bench {tag}", data=_banner_png(), file_name="b.png"
    )
    campaign = Campaign.objects.create(
        name=f"bench {tag}",
        image=image,
        sms_text="Hi {first_name}",
        max_send_rate=100000,
    )
    campaign.audiences.add(audience)
    connection.close()
    return campaign


def run_engine(campaign, concurrency: int) -> float:
    from campaigns.services import sending

    sending.campaign_launch(campaign=campaign)
    started = time.perf_counter()
    summary = sending.campaign_send_run(
        campaign_id=campaign.pk, concurrency=concurrency
    )
    elapsed = time.perf_counter() - started
    assert summary.accepted == summary.sent, summary
    return summary.accepted / elapsed


def run_bare(count: int, concurrency: int, sandbox_url: str) -> float:
    from campaigns.telesign import OmnichannelMessage, encode_payload
    from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
    from campaigns.telesign.signing import basic_auth_headers

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=concurrency)
    session.mount("http://", adapter)
    headers = {
        **basic_auth_headers(SANDBOX_CUSTOMER_ID, SANDBOX_API_KEY),
        "Content-Type": "application/json",
    }
    accepted = 0
    lock = threading.Lock()

    def send(i):
        nonlocal accepted
        body = encode_payload(
            OmnichannelMessage(
                phone=f"+4478{i:08d}",
                external_id=f"bare-{time.time_ns()}-{i}",
                image_url="https://example.test/i.png",
                sms_text="Hi there",
            )
        )
        response = session.post(
            sandbox_url + "/v1/omnichannel", data=body, headers=headers, timeout=15
        )
        if response.json()["status"]["code"] == 3001:
            with lock:
                accepted += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, range(count)))
    elapsed = time.perf_counter() - started
    assert accepted == count
    return count / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--recipients", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--port", type=int, default=8131)
    args = parser.parse_args()

    prepare_database(args.db)
    from django.conf import settings

    sandbox_url = f"http://127.0.0.1:{args.port}"
    settings.TELESIGN_SANDBOX_URL = sandbox_url
    settings.TELESIGN_CUSTOMER_ID = settings.TELESIGN_API_KEY = ""
    sandbox = start_sandbox(args.port, "--latency-ms", str(args.latency_ms))
    try:
        bare, engine = [], []
        for round_number in range(args.rounds):
            campaign = seed(args.recipients, f"{round_number}")
            bare.append(run_bare(args.recipients, args.concurrency, sandbox_url))
            engine.append(run_engine(campaign, args.concurrency))
            print(
                f"round {round_number + 1}: bare {bare[-1]:.1f}/s, "
                f"engine {engine[-1]:.1f}/s, ratio {engine[-1] / bare[-1]:.3f}",
                flush=True,
            )
    finally:
        sandbox.kill()
    ratio = statistics.median(e / b for e, b in zip(engine, bare, strict=True))
    print(f"machine: {machine()}")
    print(
        f"db={args.db} recipients={args.recipients} concurrency={args.concurrency} "
        f"latency={args.latency_ms:g}ms: bare median {statistics.median(bare):.1f}/s, "
        f"engine median {statistics.median(engine):.1f}/s, median ratio {ratio:.3f} "
        f"(target >= 0.9)"
    )


if __name__ == "__main__":
    main()
