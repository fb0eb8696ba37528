"""Telesign status codes, in one table, with an "unknown" fallback.

Sources: Telesign's omnichannel OpenAPI and its "all status and error codes"
page. Code against `status.code`, never the HTTP status. The app and the
local sandbox both describe codes from this table.
"""

from dataclasses import dataclass
from enum import StrEnum


class CodeKind(StrEnum):
    IN_PROGRESS = "in_progress"  # accepted, still moving
    DELIVERED = "delivered"
    READ = "read"
    CHANNEL_FAILED = "channel_failed"  # this channel failed; a fallback may follow
    FAILED = "failed"  # final failure of the message
    VALIDATION = "validation"  # the request was wrong: never retry
    AUTH = "auth"  # credentials or account: stop sending
    RETRYABLE = "retryable"  # rate limit or outage: retry later
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class StatusCode:
    code: int
    description: str
    kind: CodeKind


_TABLE = [
    (3000, "Delivered", CodeKind.DELIVERED),
    (3001, "Message in progress", CodeKind.IN_PROGRESS),
    (3002, "Delivered to gateway", CodeKind.IN_PROGRESS),
    (3003, "Delivery error", CodeKind.FAILED),
    (3004, "Sent; the region gives no handset delivery report", CodeKind.DELIVERED),
    (3005, "Message is read", CodeKind.READ),
    (3006, "None of the requested channels is enabled or valid", CodeKind.FAILED),
    (3030, "Temporary phone error", CodeKind.FAILED),
    (3031, "Permanent phone error", CodeKind.FAILED),
    (3032, "Cannot route message", CodeKind.FAILED),
    (3033, "Message expired before delivery", CodeKind.FAILED),
    (3034, "SMS not supported", CodeKind.FAILED),
    (3035, "Invalid or unsupported message content", CodeKind.FAILED),
    (3036, "Message price above your maximum", CodeKind.FAILED),
    (3037, "Blocked country", CodeKind.FAILED),
    (3038, "Blocked prefix", CodeKind.FAILED),
    (3039, "Final status unknown", CodeKind.FAILED),
    (3040, "Queued by gateway", CodeKind.IN_PROGRESS),
    (3041, "Carrier rejected (temporary)", CodeKind.FAILED),
    (3042, "Carrier rejected (permanent)", CodeKind.FAILED),
    (3043, "Gateway error (temporary)", CodeKind.FAILED),
    (3044, "Gateway error (permanent)", CodeKind.FAILED),
    (3045, "Message parameters problem", CodeKind.FAILED),
    (3046, "Blocked by subscriber", CodeKind.FAILED),
    (3047, "Low credit", CodeKind.FAILED),
    (3048, "Subscriber roaming", CodeKind.FAILED),
    (3049, "Number portability error", CodeKind.FAILED),
    (3050, "Subscriber absent", CodeKind.FAILED),
    (3051, "Suspected spam", CodeKind.FAILED),
    (3052, "Blocked at your request", CodeKind.FAILED),
    (3053, "Blocked by Telesign", CodeKind.FAILED),
    (3055, "Channel not supported by the user's device", CodeKind.CHANNEL_FAILED),
    (
        3056,
        "Message failed to deliver in specified fallback time",
        CodeKind.CHANNEL_FAILED,
    ),
    (3057, "Invalid source address", CodeKind.FAILED),
    (3058, "API host not allowed for this Customer ID", CodeKind.AUTH),
    (3061, "Media size exceeds the limit", CodeKind.CHANNEL_FAILED),
    (3071, "Unverified number on a trial account", CodeKind.FAILED),
    (3072, "Blocked for high risk score", CodeKind.FAILED),
    (3073, "Insufficient prepaid funds", CodeKind.AUTH),
    (3100, "Unknown channel", CodeKind.VALIDATION),
    (3101, "Invalid phone_number", CodeKind.VALIDATION),
    (3102, "Invalid message_type", CodeKind.VALIDATION),
    (3103, "Invalid external_id", CodeKind.VALIDATION),
    (3104, "Invalid account_lifecycle_event", CodeKind.VALIDATION),
    (3105, "Invalid originating_ip", CodeKind.VALIDATION),
    (3106, "Invalid callback_url", CodeKind.VALIDATION),
    (3107, "Invalid country_code", CodeKind.VALIDATION),
    (3108, "Invalid message", CodeKind.VALIDATION),
    (3109, "Invalid sender_id", CodeKind.VALIDATION),
    (3110, "Invalid request or JSON", CodeKind.VALIDATION),
    (3112, "Template does not exist for the selected channel", CodeKind.VALIDATION),
    (3113, "Duplicate or malformed channels", CodeKind.VALIDATION),
    (
        3114,
        "Message type not allowed outside the conversation window",
        CodeKind.VALIDATION,
    ),
    (3115, "Not in coverage", CodeKind.VALIDATION),
    (3116, "Payload limit size exceeded", CodeKind.VALIDATION),
    (3200, "Channel not enabled", CodeKind.AUTH),
    (3202, "Fallback not enabled for this Customer ID", CodeKind.AUTH),
    (3203, "callback_url not enabled for this account", CodeKind.VALIDATION),
    (3204, "Rate limit exceeded", CodeKind.RETRYABLE),
    (3205, "SMS transactions per second exceeded", CodeKind.RETRYABLE),
    (3206, "Omnichannel not enabled for this account", CodeKind.AUTH),
    (3207, "Hard cap reached", CodeKind.AUTH),
    (3300, "Missing channels", CodeKind.VALIDATION),
    (3301, "Missing channel", CodeKind.VALIDATION),
    (3302, "Missing phone_number", CodeKind.VALIDATION),
    (3303, "Missing message", CodeKind.VALIDATION),
    (3304, "Missing message_type", CodeKind.VALIDATION),
    (3305, "Missing template parameters", CodeKind.VALIDATION),
    (3306, "No message content for a selected channel", CodeKind.VALIDATION),
    (3400, "Not authorized", CodeKind.AUTH),
    (3405, "Missing Authorization header", CodeKind.AUTH),
    (3406, "Account suspended", CodeKind.AUTH),
    (3408, "Account not found", CodeKind.AUTH),
    (3409, "Source IP not allowed", CodeKind.AUTH),
    (3410, "Invalid Customer ID", CodeKind.AUTH),
    (3411, "Invalid API key", CodeKind.AUTH),
    (3412, "Malformed Authorization header", CodeKind.AUTH),
    (3413, "Host not allowed", CodeKind.AUTH),
    (3500, "System unavailable", CodeKind.RETRYABLE),
]

STATUS_CODES: dict[int, StatusCode] = {
    code: StatusCode(code, description, kind) for code, description, kind in _TABLE
}


def status_code_info(code: int | None) -> StatusCode:
    """Describe `code`; codes not in the table come back as UNKNOWN, never raise."""
    if code is None:
        return StatusCode(0, "No status", CodeKind.UNKNOWN)
    known = STATUS_CODES.get(code)
    if known:
        return known
    # Families documented as ranges, for codes the table does not list.
    if 3100 <= code < 3200 or 3300 <= code < 3400:
        return StatusCode(code, f"Request rejected ({code})", CodeKind.VALIDATION)
    if 3400 <= code < 3500:
        return StatusCode(code, f"Not authorized ({code})", CodeKind.AUTH)
    return StatusCode(code, f"Unknown status {code}", CodeKind.UNKNOWN)


class CodeFamily(StrEnum):
    """What a code means for the message, in the words a list filter offers."""

    DELIVERED = "delivered"
    PENDING = "pending"
    FAILED = "failed"
    OTHER = "other"


FAMILY_OF_KIND = {
    CodeKind.DELIVERED: CodeFamily.DELIVERED,
    CodeKind.READ: CodeFamily.DELIVERED,
    CodeKind.IN_PROGRESS: CodeFamily.PENDING,
    CodeKind.RETRYABLE: CodeFamily.PENDING,
    CodeKind.CHANNEL_FAILED: CodeFamily.FAILED,
    CodeKind.FAILED: CodeFamily.FAILED,
    CodeKind.VALIDATION: CodeFamily.FAILED,
    CodeKind.AUTH: CodeFamily.FAILED,
    CodeKind.UNKNOWN: CodeFamily.OTHER,
}

# The ranges status_code_info reads as refusals, [start, end): all failures.
FAILED_RANGES = ((3100, 3200), (3300, 3500))


def family_codes(family: CodeFamily) -> list[int]:
    """The table's codes of one family (the FAILED family also spans
    FAILED_RANGES)."""
    return sorted(
        code
        for code, info in STATUS_CODES.items()
        if FAMILY_OF_KIND[info.kind] == family
    )
