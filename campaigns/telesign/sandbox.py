"""A local stand-in for Telesign's `POST /v1/omnichannel`, with signed callbacks.

It authenticates (Basic and digest), validates with Telesign's status codes,
answers 3001 with a fresh reference_id, fetches the image as Viber would, and
later POSTs delivery callbacks in Telesign's messaging schema, signed as
Telesign signs them. Outcomes are decided by the last digit of the number:

    0, 6  delivered on Viber
    1, 7  delivered on Viber, then read
    2     no Viber on the phone (3055), SMS fallback delivered
    3     Viber not delivered within fallback_time (3056), SMS fallback delivered
    4     no Viber (3055), SMS fails too (3031 permanent phone error)
    5     delivered and read on Viber, callbacks out of order and duplicated
    8     Viber times out (3056), SMS expires (3033)
    9     delivered on Viber, slowly (after half the fallback time)

Without an SMS channel in the request, a failed Viber leg is final; without
a Viber channel, the SMS leg follows the digit (4 and 8 fail, others deliver). An image
that cannot be fetched, or is not a JPEG or PNG, fails the Viber leg (3035)
and the SMS fallback follows. Every provider delay is multiplied by
`time_scale` so a demo campaign ends in seconds.

Knobs for tests and benchmarks (command-line options or POST /sandbox/config):
added latency, rates of 503/3500, 429/3204 and "accepted, then no answer in
time", and a ledger of every request (GET /sandbox/ledger).
"""

import base64
import heapq
import hmac
import json
import logging
import random
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import requests

from .client import MAX_PAYLOAD_BYTES, OMNICHANNEL_PATH
from .signing import (
    callback_headers,
    digest_auth_headers,
    parse_tsa_header,
)

logger = logging.getLogger("campaigns.telesign.sandbox")

KNOWN_CHANNELS = {"rcs", "whatsapp", "sms", "mms", "viber", "email"}
VIBER_TEMPLATES = {
    "text",
    "text_session",
    "image",
    "image_session",
    "video",
    "text_video",
    "url_action_video",
    "url_action",
    "otp_verify",
}
IMAGE_TEMPLATES = {"image", "image_session"}
MESSAGE_TYPES = {"ARN", "MKT", "OTP"}

# Provider delays, in seconds before `time_scale` applies.
VIBER_DELIVERY_DELAY = 2.0
VIBER_FAILURE_DELAY = 1.0
SMS_DELIVERY_DELAY = 4.0
READ_DELAY = 20.0

DESCRIPTIONS = {
    3000: "Delivered",
    3001: "Message in progress",
    3005: "Message is read",
    3031: "Permanent phone error",
    3033: "Message expired before delivery",
    3035: "Invalid or unsupported message content",
    3055: "Channel not supported by the user's device",
    3056: "Message failed to deliver in specified fallback time",
}


@dataclass
class SandboxConfig:
    customer_id: str
    api_key: str
    callback_url: str | None = None
    time_scale: float = 0.01
    latency_ms: float = 0.0
    rate_5xx: float = 0.0
    rate_429: float = 0.0
    rate_timeout_after_accept: float = 0.0
    timeout_hang_seconds: float = 30.0
    callbacks_enabled: bool = True
    fetch_images: bool = True
    seed: int | None = None


def _reference_id() -> str:
    return uuid.uuid4().hex.upper()


def _timestamp(moment: datetime, *, colon_millis: bool) -> str:
    # Telesign's examples show both "22:07:01:226" and "22:05:00.325".
    millis = f"{moment.microsecond // 1000:03d}"
    separator = ":" if colon_millis else "."
    return moment.strftime("%Y-%m-%d %H:%M:%S") + separator + millis


@dataclass
class _Leg:
    channel: str
    reference_id: str = field(default_factory=_reference_id)


class SandboxState:
    """Ledger, knobs and the callback schedule, shared by all request threads."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self.lock = threading.Lock()
        self.ledger: list[dict] = []
        self.random = random.Random(config.seed)
        self._schedule: list[tuple[float, int, dict, str | None]] = []
        self._schedule_counter = 0
        self._schedule_ready = threading.Condition(self.lock)
        self._image_cache: dict[str, tuple[float, bool]] = {}
        self._image_lock = threading.Lock()
        self.callbacks_sent = 0
        self.callbacks_failed = 0
        self.stopping = False

    # --- ledger ---------------------------------------------------------------

    def record(self, entry: dict) -> None:
        with self.lock:
            self.ledger.append(entry)

    def ledger_summary(self) -> dict:
        with self.lock:
            accepted = Counter(
                e["external_id"] for e in self.ledger if e.get("code") == 3001
            )
            codes = Counter(str(e.get("code")) for e in self.ledger)
            return {
                "requests": len(self.ledger),
                "accepted": sum(accepted.values()),
                "codes": dict(codes),
                "accepted_by_external_id": dict(accepted),
                "callbacks_sent": self.callbacks_sent,
                "callbacks_failed": self.callbacks_failed,
                "callbacks_pending": len(self._schedule),
            }

    def reset(self) -> None:
        with self.lock:
            self.ledger.clear()
            self._schedule.clear()
            self.callbacks_sent = self.callbacks_failed = 0

    # --- callbacks --------------------------------------------------------------

    def schedule(self, delay: float, payload: dict, callback_url: str | None) -> None:
        if not self.config.callbacks_enabled:
            return
        due = time.monotonic() + max(0.0, delay)
        with self.lock:
            self._schedule_counter += 1
            heapq.heappush(
                self._schedule, (due, self._schedule_counter, payload, callback_url)
            )
            self._schedule_ready.notify()

    def next_due_callback(self) -> tuple[dict, str | None] | None:
        with self.lock:
            while not self.stopping:
                if self._schedule:
                    due = self._schedule[0][0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        _, _, payload, url = heapq.heappop(self._schedule)
                        return payload, url
                    self._schedule_ready.wait(min(wait, 0.5))
                else:
                    self._schedule_ready.wait(0.5)
            return None

    # --- images -----------------------------------------------------------------

    def image_is_usable(self, url: str) -> bool:
        """Fetch the image as Viber would: reachable, and a real JPEG or PNG."""
        if not self.config.fetch_images:
            return True
        now = time.monotonic()
        with self._image_lock:
            cached = self._image_cache.get(url)
            if cached and now - cached[0] < 60:
                return cached[1]
            try:
                response = requests.get(url, timeout=5, stream=True)
                head = response.raw.read(16) if response.ok else b""
                response.close()
                usable = head.startswith(b"\xff\xd8\xff") or head.startswith(
                    b"\x89PNG\r\n\x1a\n"
                )
            except requests.RequestException:
                usable = False
            self._image_cache[url] = (now, usable)
            return usable


def _plan(
    digit: int, *, has_sms: bool, image_ok: bool, fallback_time: int
) -> list[tuple[float, int | None, int | None, bool]]:
    """The steps of one message: (delay, viber code, sms code, duplicate?).

    A None code means the channel was not reached yet in that callback.
    """
    if not image_ok:
        viber_fail, viber_at = 3035, VIBER_FAILURE_DELAY
    elif digit in (2, 4):
        viber_fail, viber_at = 3055, VIBER_FAILURE_DELAY
    elif digit in (3, 8):
        viber_fail, viber_at = 3056, float(fallback_time)
    else:
        viber_fail, viber_at = None, 0.0

    if viber_fail is None:
        delivered_at = fallback_time / 2 if digit == 9 else VIBER_DELIVERY_DELAY
        steps = [(delivered_at, 3000, None, False)]
        if digit in (1, 7, 5):
            steps.append((delivered_at + READ_DELAY, 3005, None, False))
        if digit == 5:
            # Read arrives first, then the delivery report, twice.
            steps = [
                (delivered_at, 3005, None, False),
                (delivered_at + 0.5, 3000, None, False),
                (delivered_at + 0.6, 3000, None, True),
            ]
        return steps

    if not has_sms:
        return [(viber_at, viber_fail, None, False)]
    sms_final = {4: 3031, 8: 3033}.get(digit, 3000)
    return [
        (viber_at, viber_fail, 3001, False),
        (viber_at + SMS_DELIVERY_DELAY, viber_fail, sms_final, False),
    ]


def _sms_only_plan(digit: int) -> list[tuple[float, int]]:
    """An SMS without Viber: the SMS leg of the digit's outcome (delivered,
    except 4 → 3031 and 8 → 3033)."""
    return [(SMS_DELIVERY_DELAY, {4: 3031, 8: 3033}.get(digit, 3000))]


def _callback_payload(
    *,
    reference_id: str,
    external_id,
    legs: dict[str, _Leg],
    viber_code: int | None,
    sms_code: int | None,
    at: datetime,
) -> dict:
    channel_status = []
    if viber_code is not None:
        channel_status.append(
            {
                "viber": {
                    "code": viber_code,
                    "description": DESCRIPTIONS.get(viber_code, ""),
                    "reference_id": legs["viber"].reference_id,
                    "updated_on": _timestamp(at, colon_millis=False),
                }
            }
        )
    if sms_code is not None:
        sms_entry = {
            "code": sms_code,
            "description": DESCRIPTIONS.get(sms_code, ""),
            "updated_on": _timestamp(at, colon_millis=False),
        }
        # Telesign leaves out a channel's reference while it is still 3001.
        if sms_code != 3001:
            sms_entry["reference_id"] = legs["sms"].reference_id
        channel_status.append({"sms": sms_entry})
        overall, last_channel = sms_code, "sms"
    else:
        overall, last_channel = viber_code, "viber"
    return {
        "reference_id": reference_id,
        "external_id": external_id,
        "status": {
            "code": overall,
            "description": DESCRIPTIONS.get(overall, ""),
            "last_channel": last_channel,
            "updated_on": _timestamp(at, colon_millis=True),
        },
        "channel_status": channel_status,
    }


class _Reject(Exception):
    def __init__(self, http_status: int, code: int, description: str):
        self.http_status, self.code, self.description = http_status, code, description


def validate_request(payload) -> dict:
    """Check an omnichannel body as Telesign does; raise _Reject with its code."""
    if not isinstance(payload, dict):
        raise _Reject(400, 3110, "Invalid request or JSON")
    channels = payload.get("channels")
    if channels is None:
        raise _Reject(400, 3300, "Missing channels")
    if not isinstance(channels, list) or not channels:
        raise _Reject(400, 3113, "Duplicate or malformed channels")
    names = []
    for entry in channels:
        if not isinstance(entry, dict) or "channel" not in entry:
            raise _Reject(400, 3301, "Missing channel")
        name = entry["channel"]
        if name not in KNOWN_CHANNELS:
            raise _Reject(400, 3100, f"Unknown channel {name!r}")
        if name in names:
            raise _Reject(400, 3113, "Duplicate or malformed channels")
        names.append(name)
        if "fallback_time" in entry:
            fallback = entry["fallback_time"]
            if (
                not isinstance(fallback, int)
                or isinstance(fallback, bool)
                or not 30 <= fallback <= 3600
            ):
                raise _Reject(
                    400, 3113, "fallback_time must be an integer from 30 to 3600"
                )
    message = payload.get("message")
    if message is None:
        raise _Reject(400, 3303, "Missing message")
    if not isinstance(message, dict):
        raise _Reject(400, 3108, "Invalid message")
    if "message_type" not in payload:
        raise _Reject(400, 3304, "Missing message_type")
    if payload["message_type"] not in MESSAGE_TYPES:
        raise _Reject(400, 3102, "Invalid message_type")
    recipient = payload.get("recipient")
    phone = payload.get("phone_number")
    if phone is None and isinstance(recipient, dict):
        phone = recipient.get("phone_number")
    if phone is None:
        raise _Reject(400, 3302, "Missing phone_number")
    if not isinstance(phone, str) or not phone.isdigit() or not 7 <= len(phone) <= 15:
        raise _Reject(400, 3101, "Invalid phone_number")
    external_id = payload.get("external_id")
    if external_id is not None and (
        not isinstance(external_id, str)
        or not external_id.isascii()
        or len(external_id) > 100
    ):
        raise _Reject(400, 3103, "Invalid external_id")
    if "callback_url" in payload and not payload["callback_url"]:
        raise _Reject(400, 3106, "Invalid callback_url")
    for name in names:
        content = message.get(name) or message.get("default")
        if not isinstance(content, dict):
            raise _Reject(400, 3306, f"No message content for channel {name}")
        template = content.get("template")
        parameters = content.get("parameters")
        if not isinstance(parameters, dict):
            raise _Reject(400, 3305, f"Missing template parameters for {name}")
        if name == "viber":
            if template not in VIBER_TEMPLATES:
                raise _Reject(400, 3112, "Template does not exist for viber")
            if template in IMAGE_TEMPLATES and not isinstance(
                parameters.get("url"), str
            ):
                raise _Reject(400, 3305, "Missing template parameter url")
        if name == "sms":
            if template != "text":
                raise _Reject(400, 3112, "Template does not exist for sms")
            if not isinstance(parameters.get("text"), str) or not parameters["text"]:
                raise _Reject(400, 3305, "Missing template parameter text")
    return {"names": names, "phone": phone, "external_id": external_id}


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TelesignSandbox/1.0"
    state: SandboxState  # set on the server class

    def setup(self):
        super().setup()
        # Answer without Nagle's delay: headers and body leave as written,
        # so the added latency is the only latency.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):
        logger.debug("%s " + format, self.address_string(), *args)

    # --- plumbing ---------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, http_status: int, payload: dict, headers=None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(http_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Allow", "GET,POST,HEAD")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _status(
        self, http_status, code, description, external_id=None, headers=None, **extra
    ):
        """Answer in Telesign's shape: status code and description, external_id."""
        self._send_json(
            http_status,
            {
                "status": {"code": code, "description": description},
                "external_id": external_id,
                **extra,
            },
            headers,
        )

    # --- routes -----------------------------------------------------------------

    def do_GET(self):
        route = urlparse(self.path)
        if route.path == "/sandbox/ledger":
            summary = self.state.ledger_summary()
            if parse_qs(route.query).get("full"):
                with self.state.lock:
                    summary["entries"] = list(self.state.ledger)
            self._send_json(200, summary)
        elif route.path == "/sandbox/config":
            config = asdict(self.state.config)
            config.pop("api_key")
            self._send_json(200, config)
        elif route.path == "/health":
            self._send_json(200, {"ok": True})
        else:
            self._send_json(404, {"error": "not found"})

    def do_POST(self):
        route = urlparse(self.path).path
        body = self._read_body()
        if route == OMNICHANNEL_PATH:
            self._omnichannel(body)
        elif route == "/sandbox/config":
            try:
                changes = json.loads(body or b"{}")
                for key, value in changes.items():
                    if key in ("customer_id", "api_key") or not hasattr(
                        self.state.config, key
                    ):
                        raise KeyError(key)
                    setattr(self.state.config, key, value)
            except (ValueError, KeyError, AttributeError) as exc:
                self._send_json(400, {"error": f"bad config: {exc}"})
                return
            self._send_json(200, {"ok": True})
        elif route == "/sandbox/reset":
            self.state.reset()
            self._send_json(200, {"ok": True})
        else:
            self._send_json(404, {"error": "not found"})

    def _authenticated(self, body: bytes) -> tuple[int, str] | None:
        """None when the credentials are right, else (code, description)."""
        config = self.state.config
        header = self.headers.get("Authorization")
        if not header:
            return 3405, "Missing Authorization header"
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:], validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                return 3412, "Malformed Authorization header"
            customer_id, _, api_key = decoded.partition(":")
            if customer_id == config.customer_id and api_key == config.api_key:
                return None
            return 3400, "Not authorized"
        parsed = parse_tsa_header(header)
        if parsed is None:
            return 3412, "Malformed Authorization header"
        date = self.headers.get("x-ts-date") or self.headers.get("Date") or ""
        nonce = self.headers.get("x-ts-nonce") or ""
        if not date or not nonce:
            return 3412, "Malformed Authorization header"
        expected = digest_auth_headers(
            customer_id=config.customer_id,
            api_key=config.api_key,
            method="POST",
            path=OMNICHANNEL_PATH,
            body=body,
            content_type=self.headers.get("Content-Type", ""),
            date=date,
            nonce=nonce,
        )["Authorization"]
        if hmac.compare_digest(expected.encode(), header.encode()):
            return None
        return 3400, "Not authorized"

    def _omnichannel(self, body: bytes) -> None:
        state, config = self.state, self.state.config
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        entry = {"at": time.time(), "external_id": None, "phone": None, "code": None}

        def reject(http_status, code, description, external_id=None, headers=None):
            entry.update(code=code, http_status=http_status)
            state.record(entry)
            self._status(http_status, code, description, external_id, headers)

        problem = self._authenticated(body)
        if problem:
            reject(401, *problem)
            return
        if len(body) > MAX_PAYLOAD_BYTES:
            reject(400, 3116, "Payload limit size exceeded")
            return
        try:
            payload = json.loads(body)
            checked = validate_request(payload)
        except ValueError:
            reject(400, 3110, "Invalid request or JSON")
            return
        except _Reject as exc:
            external_id = (
                payload.get("external_id") if isinstance(payload, dict) else None
            )
            entry["external_id"] = external_id if isinstance(external_id, str) else None
            reject(exc.http_status, exc.code, exc.description, entry["external_id"])
            return
        entry.update(external_id=checked["external_id"], phone=checked["phone"])

        roll = state.random.random()
        if roll < config.rate_429:
            reject(
                429,
                3204,
                "Rate limit exceeded",
                checked["external_id"],
                {"Retry-After": "1"},
            )
            return
        if roll < config.rate_429 + config.rate_5xx:
            reject(503, 3500, "System unavailable", checked["external_id"])
            return

        reference_id = _reference_id()
        entry.update(code=3001, http_status=200, reference_id=reference_id)
        state.record(entry)
        self._plan_callbacks(payload, checked, reference_id)

        hang = (
            roll < config.rate_429 + config.rate_5xx + config.rate_timeout_after_accept
        )
        if hang:
            # Accepted, then no answer in time: the client cannot know it went out.
            time.sleep(config.timeout_hang_seconds)
            self.close_connection = True
            return
        self._status(
            200,
            3001,
            "Message in progress",
            checked["external_id"],
            reference_id=reference_id,
        )

    def _plan_callbacks(self, payload: dict, checked: dict, reference_id: str) -> None:
        state, config = self.state, self.state.config
        names = checked["names"]
        callback_url = payload.get("callback_url") or config.callback_url
        digit = int(checked["phone"][-1])
        legs = {"viber": _Leg("viber"), "sms": _Leg("sms")}

        def schedule(start, delay, viber_code, sms_code):
            callback = _callback_payload(
                reference_id=reference_id,
                external_id=checked["external_id"],
                legs=legs,
                viber_code=viber_code,
                sms_code=sms_code,
                at=start + timedelta(seconds=delay),
            )
            state.schedule(delay * config.time_scale, callback, callback_url)

        if "viber" not in names:
            if names == ["sms"] and config.callbacks_enabled:
                start = datetime.now(UTC)
                for delay, sms_code in _sms_only_plan(digit):
                    schedule(start, delay, None, sms_code)
            return
        fallback_time = next(
            (
                c.get("fallback_time", 300)
                for c in payload["channels"]
                if c["channel"] == "viber"
            ),
            300,
        )
        has_sms = "sms" in names[names.index("viber") + 1 :]
        image_url = payload["message"]["viber"]["parameters"].get("url", "")

        def plan():
            image_ok = state.image_is_usable(image_url) if image_url else False
            start = datetime.now(UTC)
            for delay, viber_code, sms_code, _dup in _plan(
                digit, has_sms=has_sms, image_ok=image_ok, fallback_time=fallback_time
            ):
                schedule(start, delay, viber_code, sms_code)

        if config.callbacks_enabled:
            threading.Thread(target=plan, daemon=True).start()


class _SandboxServer(ThreadingHTTPServer):
    # Many workers open their pooled connections at once; the default backlog
    # of 5 drops some, which clients see as a reset after sending.
    request_queue_size = 256


class TelesignSandbox:
    """Runs the sandbox HTTP server and its callback senders on threads."""

    def __init__(
        self, config: SandboxConfig, *, host: str = "127.0.0.1", port: int = 8025
    ):
        self.state = SandboxState(config)
        handler = type("Handler", (SandboxHandler,), {"state": self.state})
        self.server = _SandboxServer((host, port), handler)
        self.server.daemon_threads = True
        self.threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _deliver_callbacks(self) -> None:
        session = requests.Session()
        config = self.state.config
        while True:
            item = self.state.next_due_callback()
            if item is None:
                return
            payload, url = item
            if not url:
                continue
            body = json.dumps(payload).encode()
            headers = callback_headers(config.customer_id, config.api_key, body)
            # Telesign tries a few times, a few seconds apart.
            for attempt in range(3):
                try:
                    response = session.post(url, data=body, headers=headers, timeout=5)
                    if response.status_code < 300:
                        with self.state.lock:
                            self.state.callbacks_sent += 1
                        break
                    logger.info("callback got HTTP %s", response.status_code)
                except requests.RequestException as exc:
                    logger.info("callback to %s failed: %s", url, exc)
                time.sleep(0.2 * (attempt + 1))
            else:
                with self.state.lock:
                    self.state.callbacks_failed += 1

    def start(self, callback_threads: int = 4) -> "TelesignSandbox":
        serve = threading.Thread(target=self.server.serve_forever, daemon=True)
        serve.start()
        self.threads.append(serve)
        for _ in range(callback_threads):
            sender = threading.Thread(target=self._deliver_callbacks, daemon=True)
            sender.start()
            self.threads.append(sender)
        return self

    def serve_forever(self, callback_threads: int = 4) -> None:
        for _ in range(callback_threads):
            threading.Thread(target=self._deliver_callbacks, daemon=True).start()
        self.server.serve_forever()

    def stop(self) -> None:
        with self.state.lock:
            self.state.stopping = True
            self.state._schedule_ready.notify_all()
        self.server.shutdown()
        self.server.server_close()
