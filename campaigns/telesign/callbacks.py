"""Telesign callback payloads: what kind they are, and their timestamps.

Only shapes are handled here; what a callback means for a recipient is decided
in `campaigns.services.callbacks`. The shapes are Telesign's delivery and read
reports (`status` plus one `channel_status` entry per channel tried) and its
Viber (`content`) and SMS (`user_response`) replies.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# "2020-05-04 22:07:01:226", "2020-05-04 22:05:00.325", "2024-11-12T13:08:35.212526Z",
# "2020-08-27T17:28:49+02:00": a space or T, a ':' or '.' before the fraction.
_TELESIGN_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:[.:](?P<fraction>\d{1,9}))?"
    r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2}|UTC|GMT)?$",
    re.IGNORECASE,
)

# Characters no database column can hold: NUL (PostgreSQL text) and unpaired
# surrogates (not UTF-8), which JSON can carry as "\u0000" and "\ud800".
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_ID = "must not contain NUL or unpaired surrogate characters"
# Status codes are stored in 32-bit integer columns; Telesign's have 4 digits.
CODE_MIN, CODE_MAX = -(2**31), 2**31 - 1


def storable(text: str) -> str:
    """Text with what no column can hold replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def parse_provider_time(value) -> datetime | None:
    """Parse any timestamp format Telesign uses as an aware UTC datetime.

    Values without a zone are UTC. Returns None for anything unreadable
    (including impossible dates such as month 31), never raises.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _TELESIGN_TIME.match(text)
    if match:
        fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
        zone = (match["zone"] or "Z").upper()
        if zone in ("Z", "UTC", "GMT"):
            zone = "+00:00"
        elif ":" not in zone:
            zone = f"{zone[:3]}:{zone[3:]}"
        try:
            parsed = datetime.fromisoformat(
                f"{match['date']}T{match['time']}.{fraction}{zone}"
            )
        except ValueError:
            return None
        return parsed.astimezone(UTC)
    try:  # RFC 1123, e.g. "Thu, 23 Jun 2022 19:03:44 GMT"
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class ChannelReport:
    channel: str
    position: int
    code: int | None
    description: str
    reference_id: str | None
    updated_on: datetime | None


@dataclass(frozen=True)
class DeliveryReport:
    reference_id: str | None
    external_id: str | None
    code: int
    description: str
    last_channel: str
    updated_on: datetime | None
    channels: list[ChannelReport] = field(default_factory=list)

    @property
    def is_read(self) -> bool:
        return self.code == 3005 or any(c.code == 3005 for c in self.channels)


@dataclass(frozen=True)
class InboundReply:
    reference_id: str | None
    phone: str
    text: str
    original_reference_id: str | None
    received_on: datetime | None


def _clean_id(value) -> str | None:
    # Telesign writes a missing external_id as null, and its example as "null".
    # An id no column can hold matches nothing: missing too.
    if not isinstance(value, str) or _UNSTORABLE.search(value):
        return None
    value = value.strip()
    return value if value and value.lower() != "null" else None


def delivery_report_from(data: dict) -> DeliveryReport:
    """Build a DeliveryReport from a payload already checked by the serializer."""
    status = data["status"]
    channels = []
    for position, entry in enumerate(data.get("channel_status") or []):
        ((name, info),) = entry.items()
        channels.append(
            ChannelReport(
                channel=name,
                position=position,
                code=info.get("code"),
                description=storable(str(info.get("description") or "")[:500]),
                reference_id=_clean_id(info.get("reference_id")),
                updated_on=parse_provider_time(info.get("updated_on")),
            )
        )
    return DeliveryReport(
        reference_id=_clean_id(data.get("reference_id")),
        external_id=_clean_id(data.get("external_id")),
        code=status["code"],
        description=storable(str(status.get("description") or "")[:500]),
        last_channel=storable(str(status.get("last_channel") or "")[:8]),
        updated_on=parse_provider_time(status.get("updated_on")),
        channels=channels,
    )


def inbound_reply_from(data: dict) -> InboundReply:
    """Viber replies carry `content`; SMS replies carry `user_response`."""
    content, user_response, status = (
        value if isinstance(value, dict) else {}
        for value in (
            data.get("content"),
            data.get("user_response"),
            data.get("status"),
        )
    )
    phone = data.get("phone_number") or user_response.get("phone_number") or ""
    text = content.get("text") or user_response.get("mo_message") or ""
    return InboundReply(
        reference_id=_clean_id(data.get("reference_id")),
        phone=storable(str(phone)),
        text=storable(str(text)[:2000]),
        original_reference_id=_clean_id(content.get("original_reference_id")),
        received_on=parse_provider_time(
            status.get("updated_on") or data.get("submit_timestamp")
        ),
    )


def is_inbound(data: dict) -> bool:
    status = data.get("status") if isinstance(data.get("status"), dict) else {}
    return (
        "content" in data
        or "user_response" in data
        or status.get("code") == 1500
        or str(data.get("sub_resource", "")).startswith("mo_")
    )


class CallbackNotJSONError(ValueError):
    """The body is not JSON; its message is the decoder's."""


class CallbackShapeError(ValueError):
    """The JSON is not a callback we understand; `errors` names each field."""

    def __init__(self, errors: dict[str, str]):
        # Field names can come from the payload (channel names): kept storable.
        errors = {storable(k): storable(v) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _optional_str(data: dict, key: str, errors: dict, *, limit: int = 200) -> None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        errors[key] = f"must be a string of at most {limit} characters or null"
    elif value is not None and _UNSTORABLE.search(value):
        errors[key] = UNSTORABLE_ID


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _code_error(value) -> str | None:
    """What is wrong with a status code, if anything."""
    if not _is_int(value):
        return "must be an integer"
    if not CODE_MIN <= value <= CODE_MAX:
        return f"must be an integer from {CODE_MIN} to {CODE_MAX}"
    return None


def _channel_entry_errors(where: str, entry) -> dict[str, str]:
    """The problems of one `channel_status` entry, e.g. {"sms": {...}}."""
    if not isinstance(entry, dict) or len(entry) != 1:
        return {where: "must be an object with one channel name"}
    ((name, info),) = entry.items()
    if _UNSTORABLE.search(name):
        return {where: f"the channel name {UNSTORABLE_ID}"}
    name = name[:40]  # named in the errors
    if not isinstance(info, dict):
        return {where: f"{name} must be an object"}
    errors = {}
    problem = _code_error(info["code"]) if "code" in info else None
    if problem:
        errors[f"{where}.{name}.code"] = problem
    for key in ("description", "reference_id", "updated_on"):
        value = info.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 500):
            errors[f"{where}.{name}.{key}"] = "must be a short string"
        elif key == "reference_id" and value and _UNSTORABLE.search(value):
            errors[f"{where}.{name}.{key}"] = UNSTORABLE_ID
    return errors


def delivery_payload_errors(data) -> dict[str, str]:
    """Field-by-field problems of a delivery or read callback; empty if fine."""
    if not isinstance(data, dict):
        return {"body": "must be a JSON object"}
    errors: dict[str, str] = {}
    _optional_str(data, "reference_id", errors, limit=64)
    _optional_str(data, "external_id", errors, limit=100)
    if not data.get("reference_id") and not _clean_id(data.get("external_id")):
        errors.setdefault("reference_id", "reference_id or external_id is required")
    status = data.get("status")
    if not isinstance(status, dict):
        errors["status"] = "is required and must be an object"
    else:
        problem = _code_error(status.get("code"))
        if problem:
            errors["status.code"] = f"is required and {problem}"
        for key in ("description", "last_channel", "updated_on"):
            value = status.get(key)
            if value is not None and not isinstance(value, str):
                errors[f"status.{key}"] = "must be a string"
    channel_status = data.get("channel_status")
    if channel_status is not None:
        if not isinstance(channel_status, list) or len(channel_status) > 10:
            errors["channel_status"] = "must be a list of at most 10 entries"
        else:
            for index, entry in enumerate(channel_status):
                errors |= _channel_entry_errors(f"channel_status[{index}]", entry)
    return errors


def inbound_payload_errors(data) -> dict[str, str]:
    if not isinstance(data, dict):
        return {"body": "must be a JSON object"}
    errors: dict[str, str] = {}
    content = data.get("content")
    user_response = data.get("user_response")
    if content is not None and not isinstance(content, dict):
        errors["content"] = "must be an object"
    if user_response is not None and not isinstance(user_response, dict):
        errors["user_response"] = "must be an object"
    if data.get("status") is not None and not isinstance(data.get("status"), dict):
        errors["status"] = "must be an object"
    phone = data.get("phone_number") or (
        user_response.get("phone_number") if isinstance(user_response, dict) else None
    )
    if (
        not isinstance(phone, str)
        or not phone.lstrip("+").isdigit()
        or not (7 <= len(phone.lstrip("+")) <= 15)
    ):
        errors["phone_number"] = "is required: the sender's number in digits"
    text = (content or {}).get("text") if isinstance(content, dict) else None
    if text is None and isinstance(user_response, dict):
        text = user_response.get("mo_message")
    if text is not None and not isinstance(text, str):
        errors["content.text"] = "must be a string"
    return errors


def parse_callback(data) -> DeliveryReport | InboundReply:
    """Classify and check a callback; raise CallbackShapeError naming the fields."""
    if isinstance(data, dict) and is_inbound(data):
        errors = inbound_payload_errors(data)
        if errors:
            raise CallbackShapeError(errors)
        return inbound_reply_from(data)
    errors = delivery_payload_errors(data)
    if errors:
        raise CallbackShapeError(errors)
    return delivery_report_from(data)


def parse_callback_body(body: bytes) -> DeliveryReport | InboundReply:
    """Decode a callback's raw bytes and classify them: the one way a stored or
    received body becomes a report or a reply.

    Raises CallbackNotJSONError if the bytes are not JSON, CallbackShapeError
    (naming the fields) if the JSON is not a callback we understand, such as
    JSON nested too deeply to decode (a callback is four levels deep).
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CallbackNotJSONError(str(exc)) from exc
    except RecursionError as exc:
        raise CallbackShapeError({"body": "is nested too deeply to read"}) from exc
    return parse_callback(data)
