"""Checks an omnichannel request as Telesign does: credentials, then the body.

A refused request raises `Rejected` with Telesign's status code; its
description is the code table's unless Telesign's answer says more.
"""

import base64
import hmac
from dataclasses import dataclass

from campaigns.telesign.client import OMNICHANNEL_PATH
from campaigns.telesign.codes import status_code_info
from campaigns.telesign.limits import (
    FALLBACK_TIME_MAX,
    FALLBACK_TIME_MIN,
    MAX_EXTERNAL_ID_LENGTH,
)
from campaigns.telesign.signing import digest_auth_headers, parse_tsa_header

from .config import SandboxConfig

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
PHONE_DIGITS = (7, 15)


class Rejected(Exception):
    """Telesign refuses the request with `code`; nothing is sent."""

    def __init__(
        self,
        code: int,
        detail: str | None = None,
        *,
        http_status: int = 400,
        headers: dict[str, str] | None = None,
    ):
        self.code = code
        self.description = detail or status_code_info(code).description
        self.http_status = http_status
        self.headers = headers or {}
        super().__init__(self.description)


@dataclass(frozen=True)
class CheckedRequest:
    channels: list[str]  # channel names, in the order to try them
    phone: str
    external_id: str | None


def credentials_problem(
    config: SandboxConfig,
    headers,
    body: bytes,
    *,
    method: str = "POST",
    path: str = OMNICHANNEL_PATH,
) -> int | None:
    """None when the request carries the sandbox's credentials (Basic or
    digest, signing `method`, `body` and `path`), else the status code
    Telesign answers."""
    header = headers.get("Authorization")
    if not header:
        return 3405
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return 3412
        customer_id, _, api_key = decoded.partition(":")
        if customer_id == config.customer_id and api_key == config.api_key:
            return None
        return 3400
    if parse_tsa_header(header) is None:
        return 3412
    date = headers.get("x-ts-date") or headers.get("Date") or ""
    nonce = headers.get("x-ts-nonce") or ""
    if not date or not nonce:
        return 3412
    expected = digest_auth_headers(
        customer_id=config.customer_id,
        api_key=config.api_key,
        method=method,
        path=path,
        body=body,
        content_type=headers.get("Content-Type", ""),
        date=date,
        nonce=nonce,
    )["Authorization"]
    if hmac.compare_digest(expected.encode(), header.encode()):
        return None
    return 3400


def validate_request(payload) -> CheckedRequest:
    """Check an omnichannel body field by field, in Telesign's order."""
    if not isinstance(payload, dict):
        raise Rejected(3110)
    names = _channel_names(payload.get("channels"))
    message = payload.get("message")
    if message is None:
        raise Rejected(3303)
    if not isinstance(message, dict):
        raise Rejected(3108)
    if "message_type" not in payload:
        raise Rejected(3304)
    if payload["message_type"] not in MESSAGE_TYPES:
        raise Rejected(3102)
    phone = _phone_number(payload)
    external_id = payload.get("external_id")
    if external_id is not None and (
        not isinstance(external_id, str)
        or not external_id.isascii()
        or len(external_id) > MAX_EXTERNAL_ID_LENGTH
    ):
        raise Rejected(3103)
    if "callback_url" in payload and not payload["callback_url"]:
        raise Rejected(3106)
    for name in names:
        _check_content(name, message.get(name) or message.get("default"))
    return CheckedRequest(channels=names, phone=phone, external_id=external_id)


def _channel_names(channels) -> list[str]:
    if channels is None:
        raise Rejected(3300)
    if not isinstance(channels, list) or not channels:
        raise Rejected(3113)
    names = []
    for entry in channels:
        if not isinstance(entry, dict) or "channel" not in entry:
            raise Rejected(3301)
        name = entry["channel"]
        if name not in KNOWN_CHANNELS:
            raise Rejected(3100, f"Unknown channel {name!r}")
        if name in names:
            raise Rejected(3113)
        names.append(name)
        if "fallback_time" in entry and not _valid_fallback_time(
            entry["fallback_time"]
        ):
            raise Rejected(
                3113,
                f"fallback_time must be an integer from {FALLBACK_TIME_MIN} "
                f"to {FALLBACK_TIME_MAX}",
            )
    return names


def _valid_fallback_time(value) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and FALLBACK_TIME_MIN <= value <= FALLBACK_TIME_MAX
    )


def _phone_number(payload: dict) -> str:
    # The top-level phone_number is deprecated but still what the guides use.
    recipient = payload.get("recipient")
    phone = payload.get("phone_number")
    if phone is None and isinstance(recipient, dict):
        phone = recipient.get("phone_number")
    if phone is None:
        raise Rejected(3302)
    shortest, longest = PHONE_DIGITS
    if (
        not isinstance(phone, str)
        or not phone.isdigit()
        or not shortest <= len(phone) <= longest
    ):
        raise Rejected(3101)
    return phone


def _check_content(name: str, content) -> None:
    if not isinstance(content, dict):
        raise Rejected(3306, f"No message content for channel {name}")
    template = content.get("template")
    parameters = content.get("parameters")
    if not isinstance(parameters, dict):
        raise Rejected(3305, f"Missing template parameters for {name}")
    if name == "viber":
        if template not in VIBER_TEMPLATES:
            raise Rejected(3112, "Template does not exist for viber")
        if template in IMAGE_TEMPLATES and not isinstance(parameters.get("url"), str):
            raise Rejected(3305, "Missing template parameter url")
    if name == "sms":
        if template != "text":
            raise Rejected(3112, "Template does not exist for sms")
        if not isinstance(parameters.get("text"), str) or not parameters["text"]:
            raise Rejected(3305, "Missing template parameter text")
