"""Callbacks: scheduled by due time, posted signed as Telesign signs them."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from campaigns.telesign import OmnichannelMessage, TelesignClient
from campaigns.telesign.callbacks import parse_provider_time
from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
from campaigns.telesign.signing import callback_signature_valid
from sandbox.callbacks import CallbackSchedule

from ..sandbox_helpers import ledger, start_sandbox
from ..telesign.examples import SEED_MESSAGE


def test_the_schedule_hands_out_callbacks_in_due_order_then_stops():
    schedule = CallbackSchedule()
    schedule.add(0.05, {"n": 2}, "later")
    schedule.add(0.0, {"n": 1}, "now")
    assert len(schedule) == 2
    assert schedule.next_due() == ({"n": 1}, "now", 1)
    assert schedule.next_due() == ({"n": 2}, "later", 1)
    schedule.close()
    assert schedule.next_due() is None


class Receiver:
    """A callback endpoint on a free port that keeps what it receives."""

    def __init__(self, refuse_first: int = 0):
        self.received: list[tuple[dict, bytes]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.refused < refuse_first:  # as a database restart does
                    receiver.refused += 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                receiver.received.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks/"

    def wait_for(self, count: int, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, self.received
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def calling_back(receiver):
    running = start_sandbox(
        callbacks_enabled=True, fetch_images=False, callback_url=receiver.url
    )
    yield running
    running.stop()


def send(sandbox, phone, **changes):
    message = OmnichannelMessage(**{**SEED_MESSAGE.__dict__, "phone": phone, **changes})
    return TelesignClient(
        base_url=sandbox.url,
        customer_id=SANDBOX_CUSTOMER_ID,
        api_key=SANDBOX_API_KEY,
    ).send(message)


def test_callbacks_are_signed_with_the_sandbox_key(calling_back, receiver):
    result = send(calling_back, "+447911123450")
    (report,) = receiver.wait_for(1)
    headers, body = receiver.received[0]
    assert report["reference_id"] == result.reference_id
    assert report["status"]["code"] == 3000
    for header in ("Authorization", "X-TS-Authorization"):
        assert callback_signature_valid(
            body=body,
            header=headers[header],
            customer_id=SANDBOX_CUSTOMER_ID,
            api_keys=[SANDBOX_API_KEY],
        )
    assert ledger(calling_back)["callbacks_sent"] == 1


def test_viber_gives_up_after_the_fallback_time_and_sms_follows(calling_back, receiver):
    send(calling_back, "+447911123453", fallback_time=30)
    # The two reports are posted moments apart and may arrive in either
    # order on a loaded machine: the one still in progress is the first.
    failed, delivered = sorted(
        receiver.wait_for(2), key=lambda report: report["status"]["code"] == 3000
    )
    viber = failed["channel_status"][0]["viber"]
    sms = delivered["channel_status"][1]["sms"]
    assert (viber["code"], failed["status"]["code"]) == (3056, 3001)
    assert (sms["code"], delivered["status"]["code"]) == (3000, 3000)
    # Report times are real: 4 provider seconds at the sandbox's time scale.
    elapsed = parse_provider_time(sms["updated_on"]) - parse_provider_time(
        viber["updated_on"]
    )
    scale = calling_back.state.config.time_scale
    assert elapsed.total_seconds() == pytest.approx(4 * scale, abs=0.002)


def test_reports_are_dated_when_they_are_posted_not_in_provider_time(
    calling_back, receiver
):
    # At a time scale below 1 a 34-provider-second plan lasts a third of a
    # second: its reports must not be dated half a minute ahead.
    assert calling_back.state.config.time_scale < 1
    sent_at = datetime.now(UTC)
    send(calling_back, "+447911123453", fallback_time=30)
    reports = receiver.wait_for(2)
    received_at = datetime.now(UTC)
    for report in reports:
        stamps = [report["status"]["updated_on"]] + [
            entry["updated_on"]
            for channel in report["channel_status"]
            for entry in channel.values()
        ]
        for stamp in stamps:
            moment = parse_provider_time(stamp)
            assert sent_at - timedelta(seconds=1) <= moment <= received_at, stamp


def test_a_messages_own_callback_url_wins(calling_back, receiver):
    other = Receiver()
    try:
        send(calling_back, "+447911123450", callback_url=other.url)
        other.wait_for(1)
        assert receiver.received == []
    finally:
        other.server.shutdown()
        other.server.server_close()


@pytest.mark.parametrize("refused, arrives", [(3, True), (4, False)])
def test_an_unanswered_callback_is_posted_again_four_times_in_all(refused, arrives):
    # Telesign's policy: four attempts, 5, 10 and 15 s apart (shortened here).
    receiver = Receiver(refuse_first=refused)
    sandbox = start_sandbox(
        callbacks_enabled=True,
        fetch_images=False,
        callback_url=receiver.url,
        callback_retry_pauses=(0.1, 0.2, 0.3),
    )
    try:
        TelesignClient(
            base_url=sandbox.url,
            customer_id=SANDBOX_CUSTOMER_ID,
            api_key=SANDBOX_API_KEY,
        ).send(
            SEED_MESSAGE.__class__(
                **{**SEED_MESSAGE.__dict__, "phone": "+447911000000"}
            )
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
            ledger(sandbox)["callbacks_sent"] + ledger(sandbox)["callbacks_failed"] < 1
        ):
            time.sleep(0.05)
        counts = ledger(sandbox)
        assert receiver.refused == refused
        assert (counts["callbacks_sent"], counts["callbacks_failed"]) == (
            (1, 0) if arrives else (0, 1)
        )
        assert len(receiver.received) == (1 if arrives else 0)
    finally:
        sandbox.stop()
        receiver.server.shutdown()
        receiver.server.server_close()
