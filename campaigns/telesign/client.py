"""The one door to Telesign: `POST /v1/omnichannel` over one pooled session,
and `GET /v1/omnichannel/{reference_id}` to ask what became of a message.

Callers get a small typed SendResult (or StatusCheckResult), never a raw
Response. Every transport error, non-2xx answer and unreadable body is
classified once, here, and its text has our credentials taken out before
anyone else sees it.
"""

import json
import logging
import random
import threading
import time
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from enum import StrEnum

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from .codes import CodeKind, status_code_info
from .limits import (
    FALLBACK_TIME_MAX,
    FALLBACK_TIME_MIN,
    MAX_EXTERNAL_ID_LENGTH,
    MAX_PAYLOAD_BYTES,
)
from .redaction import api_key_values, redact_credentials
from .signing import basic_auth_headers, digest_auth_headers
from .status import (
    StatusCheck,
    StatusCheckResult,
    classify_status_answer,
    status_path,
)

logger = logging.getLogger(__name__)

OMNICHANNEL_PATH = "/v1/omnichannel"
USER_AGENT = "viber-campaigns/0.1 (+Django; Telesign omnichannel)"
# Telesign closes idle keep-alive connections after 499 s; a connection reused
# after that fails with "connection reset" once the request is already out.
SESSION_MAX_AGE_SECONDS = 480
# Enough of an error's text to act on; recipients keep at most 500 characters.
MAX_DESCRIPTION_LENGTH = 300


class PayloadRefused(ValueError):
    """The request would be rejected by Telesign; it was not sent."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class OmnichannelMessage:
    phone: str  # E.164, with or without "+"
    external_id: str
    image_url: str
    viber_template: str = "image"
    fallback_time: int = 600
    sms_text: str | None = None  # None: no SMS fallback
    message_type: str = "MKT"
    callback_url: str | None = None
    viber: bool = True  # False: SMS only (sms_text required)


class SendStatus(StrEnum):
    ACCEPTED = "accepted"  # 3001 with a reference_id
    REJECTED = "rejected"  # the request was refused; do not send it again
    AUTH_FAILED = "auth_failed"  # credentials or account problem: stop sending
    RETRY_LATER = "retry_later"  # nothing was accepted; safe to send again later
    UNCONFIRMED = "unconfirmed"  # Telesign may have accepted it; never resend


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    code: int | None = None
    description: str = ""
    reference_id: str | None = None
    http_status: int | None = None
    retry_after: float | None = None
    attempts: int = 1


def omnichannel_payload(message: OmnichannelMessage) -> dict:
    """The request body in the shape of Telesign's Viber image guide."""
    channels, content = [], {}
    if message.viber:
        channels.append({"channel": "viber", "fallback_time": message.fallback_time})
        content["viber"] = {
            "template": message.viber_template,
            "parameters": {"url": message.image_url},
        }
    if message.sms_text is not None:
        channels.append({"channel": "sms"})
        content["sms"] = {"template": "text", "parameters": {"text": message.sms_text}}
    payload = {
        "channels": channels,
        "phone_number": message.phone.lstrip("+"),
        "message": content,
        "message_type": message.message_type,
        "external_id": message.external_id,
    }
    if message.callback_url:
        payload["callback_url"] = message.callback_url
    return payload


def encode_payload(message: OmnichannelMessage) -> bytes:
    """Serialise and check the body once; these exact bytes are signed and sent."""
    if not message.viber and message.sms_text is None:
        raise PayloadRefused("An SMS-only message needs its SMS text.", code=3306)
    if message.viber and not (
        FALLBACK_TIME_MIN <= message.fallback_time <= FALLBACK_TIME_MAX
    ):
        raise PayloadRefused(
            f"fallback_time {message.fallback_time} s is outside Telesign's "
            f"{FALLBACK_TIME_MIN}–{FALLBACK_TIME_MAX} s.",
            code=3113,
        )
    if not message.external_id.isascii() or not (
        0 < len(message.external_id) <= MAX_EXTERNAL_ID_LENGTH
    ):
        raise PayloadRefused(
            f"external_id must be 1–{MAX_EXTERNAL_ID_LENGTH} ASCII characters.",
            code=3103,
        )
    body = json.dumps(
        omnichannel_payload(message), ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    if len(body) > MAX_PAYLOAD_BYTES:
        raise PayloadRefused(
            f"The request is {len(body)} bytes; Telesign accepts at most "
            f"{MAX_PAYLOAD_BYTES} (shorten the SMS text).",
            code=3116,
        )
    return body


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _nothing_was_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request left."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def classify_response(http_status: int, body: bytes, headers) -> SendResult:
    """Turn one HTTP answer into a SendResult, by `status.code` first."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    status = data.get("status") if isinstance(data, dict) else None
    code = status.get("code") if isinstance(status, dict) else None
    code = code if isinstance(code, int) else None
    description = (status.get("description") if isinstance(status, dict) else "") or ""
    reference_id = data.get("reference_id") if isinstance(data, dict) else None
    retry_after = _retry_after_seconds(headers.get("Retry-After"))

    def result(kind: SendStatus, code=code, description=description):
        return SendResult(
            kind,
            code=code,
            description=description or status_code_info(code).description,
            reference_id=reference_id if kind == SendStatus.ACCEPTED else None,
            http_status=http_status,
            retry_after=retry_after,
        )

    if code is None:
        # Cut after the client has redacted the whole text (see
        # `TelesignClient._redacted`), so no partial credential survives a cut.
        snippet = body[:2000].decode("utf-8", "replace")
        if http_status == 401:
            return result(SendStatus.AUTH_FAILED, 3400, "Not authorized")
        if http_status in (429, 503):
            return result(SendStatus.RETRY_LATER, None, f"HTTP {http_status}")
        if http_status == 413:
            return result(SendStatus.REJECTED, 3116, "Payload limit size exceeded")
        if 400 <= http_status < 500:
            return result(SendStatus.REJECTED, None, f"HTTP {http_status}: {snippet}")
        # A 2xx or 5xx without a readable status may hide an accepted message.
        return result(
            SendStatus.UNCONFIRMED, None, f"HTTP {http_status}, unreadable answer"
        )

    kind = status_code_info(code).kind
    if code == 3001 and reference_id and 200 <= http_status < 300:
        return result(SendStatus.ACCEPTED)
    if kind == CodeKind.AUTH or http_status == 401:
        return result(SendStatus.AUTH_FAILED)
    if kind == CodeKind.RETRYABLE or http_status in (429, 503):
        return result(SendStatus.RETRY_LATER)
    if 200 <= http_status < 300:
        return result(SendStatus.UNCONFIRMED)
    return result(SendStatus.REJECTED)


class TelesignClient:
    """Sends omnichannel messages; thread-safe, one pooled session."""

    def __init__(
        self,
        *,
        base_url: str,
        customer_id: str,
        api_key: str,
        auth_method: str = "basic",
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        pool_size: int = 32,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
    ):
        if auth_method not in ("basic", "digest"):
            raise ValueError("auth_method must be 'basic' or 'digest'")
        self.base_url = base_url.rstrip("/")
        self.customer_id = customer_id
        self._api_key = api_key
        self.auth_method = auth_method
        self.timeout = (connect_timeout, read_timeout)
        self.pool_size = pool_size
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        self._session_born = 0.0
        self._basic_headers: dict[str, str] | None = None

    def __repr__(self):  # never show the key
        return f"TelesignClient({self.base_url!r}, customer_id={self.customer_id!r})"

    def _get_session(self) -> requests.Session:
        with self._lock:
            age = time.monotonic() - self._session_born
            if self._session is None or age > SESSION_MAX_AGE_SECONDS:
                # Requests in flight keep the old session's connections until
                # they finish; new ones use fresh connections.
                session = requests.Session()
                adapter = HTTPAdapter(
                    pool_connections=1, pool_maxsize=self.pool_size, max_retries=0
                )
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                session.headers["User-Agent"] = USER_AGENT
                session.headers["Accept"] = "application/json"
                self._session, self._session_born = session, time.monotonic()
            return self._session

    def close(self):
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def _auth_headers(self, body: bytes) -> dict[str, str]:
        if self.auth_method == "digest":
            return digest_auth_headers(
                customer_id=self.customer_id,
                api_key=self._api_key,
                method="POST",
                path=OMNICHANNEL_PATH,
                body=body,
            )
        if self._basic_headers is None:
            self._basic_headers = {
                **basic_auth_headers(self.customer_id, self._api_key),
                "Content-Type": "application/json",
            }
        return self._basic_headers

    def post_omnichannel_once(self, body: bytes) -> SendResult:
        """One HTTP exchange, classified, its text redacted; no retries."""
        return self._redacted(self._exchange(body))

    def _redacted(self, result: SendResult) -> SendResult:
        """The result without our credentials in its text: Telesign's error
        answers may echo the request's headers (the Basic token, a digest
        signature) or the key, and a description is stored on the recipient,
        shown to every role and written to the audit trail."""
        description = redact_credentials(
            result.description, api_key_values(self.customer_id, [self._api_key])
        )[:MAX_DESCRIPTION_LENGTH]
        if description == result.description:
            return result
        return replace(result, description=description)

    def _exchange(self, body: bytes) -> SendResult:
        try:
            response = self._get_session().post(
                self.base_url + OMNICHANNEL_PATH,
                data=body,
                headers=self._auth_headers(body),
                timeout=self.timeout,
            )
        except requests.exceptions.ConnectionError as exc:
            if _nothing_was_sent(exc):
                return SendResult(
                    SendStatus.RETRY_LATER, description=f"Cannot connect: {exc}"
                )
            return SendResult(
                SendStatus.UNCONFIRMED,
                description="The connection dropped after the request was sent.",
            )
        except requests.exceptions.Timeout:
            # Read timeout: Telesign may well have accepted the message.
            return SendResult(
                SendStatus.UNCONFIRMED,
                description="No answer in time after the request was sent.",
            )
        except requests.exceptions.RequestException as exc:
            return SendResult(SendStatus.RETRY_LATER, description=str(exc))
        return classify_response(
            response.status_code, response.content, response.headers
        )

    def omnichannel_status(self, reference_id: str) -> StatusCheckResult:
        """`GET /v1/omnichannel/{reference_id}`: what Telesign knows of one
        message, classified (see `status`). One attempt: asking is always safe
        to repeat, so the caller asks again later instead of waiting here."""
        path = status_path(reference_id)
        try:
            response = self._get_session().get(
                self.base_url + path,
                headers=self._status_auth_headers(path),
                timeout=self.timeout,
            )
        except requests.exceptions.RequestException as exc:
            return StatusCheckResult(
                StatusCheck.RETRY_LATER,
                description=f"No answer from Telesign ({exc.__class__.__name__}).",
            )
        return classify_status_answer(
            reference_id, response.status_code, response.content, response.headers
        )

    def _status_auth_headers(self, path: str) -> dict[str, str]:
        # A GET is signed as Telesign's SDKs sign it: no body, an empty
        # content type, and the resource path.
        if self.auth_method == "digest":
            return digest_auth_headers(
                customer_id=self.customer_id,
                api_key=self._api_key,
                method="GET",
                path=path,
                body=b"",
                content_type="",
            )
        return basic_auth_headers(self.customer_id, self._api_key)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        exponential = self.backoff_base * (2 ** (attempt - 1))
        delay = random.uniform(0, min(self.backoff_max, exponential))  # full jitter
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay

    def send(self, message: OmnichannelMessage) -> SendResult:
        """Send one message, retrying only what is safe to retry.

        Rate limits, outages and refused connections are retried with
        exponential backoff and jitter, honouring Retry-After, up to
        `max_attempts`; then RETRY_LATER is returned for the caller to queue.
        """
        try:
            body = encode_payload(message)
        except PayloadRefused as exc:
            return SendResult(
                SendStatus.REJECTED, code=exc.code, description=str(exc), attempts=0
            )
        attempt = 0
        while True:
            attempt += 1
            result = self.post_omnichannel_once(body)
            if result.status != SendStatus.RETRY_LATER or attempt >= self.max_attempts:
                return SendResult(**{**result.__dict__, "attempts": attempt})
            delay = self._backoff(attempt, result.retry_after)
            logger.info(
                "telesign: %s for %s, retry %s in %.2fs",
                result.description,
                message.external_id,
                attempt,
                delay,
            )
            time.sleep(delay)
