"""The merge rules of delivery reports: pure functions, no database.

A report never moves a recipient or a channel attempt backwards: it replaces
what is stored only if its status ranks higher, or ranks the same and is not
older (Telesign's `updated_on`). Duplicates therefore change nothing, and any
order of the same reports ends in the same state.
"""

from datetime import datetime

from django.utils import timezone

from ...models import Channel, ChannelAttempt, Recipient
from ...telesign.callbacks import ChannelReport, DeliveryReport
from ...telesign.codes import CodeKind, status_code_info

DELIVERED_KINDS = (CodeKind.DELIVERED, CodeKind.READ)
READ_CODE = 3005  # Viber's "read": delivered, and seen

# What a report may change on a recipient and on a channel attempt; the
# callers write exactly these.
RECIPIENT_CALLBACK_FIELDS = [
    "reference_id",
    "status_code",
    "status_description",
    "status_updated_on",
    "last_channel",
    "outcome",
    "failure_reason",
    "delivered_at",
    "read_at",
    "send_status",
]
ATTEMPT_FIELDS = [
    "status_code",
    "status_description",
    "updated_on",
    "reference_id",
    "position",
]


def status_rank(code: int | None) -> int:
    """Precedence of a status within one message: a report never replaces one
    of higher rank, and replaces one of equal rank only if it is not older."""
    kind = status_code_info(code).kind
    if kind == CodeKind.READ:
        return 4
    if kind in (
        CodeKind.DELIVERED,
        CodeKind.FAILED,
        CodeKind.VALIDATION,
        CodeKind.AUTH,
    ):
        return 3
    if kind == CodeKind.CHANNEL_FAILED:
        return 2
    if kind == CodeKind.UNKNOWN and code is not None:
        return 1
    return 1 if code is not None else 0


def supersedes(
    new_code: int | None,
    new_time: datetime | None,
    old_code: int | None,
    old_time: datetime | None,
) -> bool:
    """True if a report (new_code, new_time) should replace the stored one."""
    if old_code is None:
        return new_code is not None
    new_rank, old_rank = status_rank(new_code), status_rank(old_code)
    if new_rank != old_rank:
        return new_rank > old_rank
    if new_time is None or old_time is None:
        return old_time is None
    return new_time >= old_time


def report_merge(
    *,
    recipient: Recipient,
    attempts: dict[str, ChannelAttempt],
    report: DeliveryReport,
) -> list[ChannelAttempt]:
    """Merge one report into a recipient and its attempts, in memory.

    Never regresses (status rank, then Telesign's time); returns the attempts
    that changed, for the caller to write (one by one or in a batch). The
    recipient's campaign must be loaded (its SMS fallback decides the outcome).
    """
    changed: list[ChannelAttempt] = []
    for channel in report.channels:
        if channel.channel not in Channel.values:
            continue  # kept in the raw event; we only send on Viber and SMS
        attempt = _attempt_merge(recipient, attempts, channel)
        if attempt is not None:
            changed.append(attempt)
    _recipient_merge(recipient, report)
    outcome_derive(recipient, attempts)
    earliest_times(recipient, report)
    return changed


def _attempt_merge(
    recipient: Recipient, attempts: dict[str, ChannelAttempt], channel: ChannelReport
) -> ChannelAttempt | None:
    """Merge one channel's entry into its attempt; the attempt if it changed."""
    current = attempts.get(channel.channel)
    if current is None:
        current = ChannelAttempt(
            recipient=recipient,
            channel=channel.channel,
            position=channel.position,
        )
        attempts[channel.channel] = current
    elif not supersedes(
        channel.code, channel.updated_on, current.status_code, current.updated_on
    ):
        if channel.reference_id and not current.reference_id:
            current.reference_id = channel.reference_id
            return current
        return None
    merged = (
        channel.code,
        channel.description,
        channel.updated_on,
        current.reference_id or channel.reference_id,
    )
    if current.pk is not None and merged == (
        current.status_code,
        current.status_description,
        current.updated_on,
        current.reference_id,
    ):
        return None  # a duplicate: nothing to write
    (
        current.status_code,
        current.status_description,
        current.updated_on,
        current.reference_id,
    ) = merged
    return current


def _recipient_merge(recipient: Recipient, report: DeliveryReport) -> None:
    """The report's overall status, reference and what it says of the send."""
    if supersedes(
        report.code,
        report.updated_on,
        recipient.status_code,
        recipient.status_updated_on,
    ):
        recipient.status_code = report.code
        recipient.status_description = (
            report.description or status_code_info(report.code).description
        )
        recipient.status_updated_on = report.updated_on
        if report.last_channel in Channel.values:
            recipient.last_channel = report.last_channel
    if not recipient.reference_id and report.reference_id:
        recipient.reference_id = report.reference_id
    if recipient.send_status in (
        Recipient.SendStatus.IN_FLIGHT,
        Recipient.SendStatus.UNCONFIRMED,
    ):
        # Telesign reports on it, so it did accept the message.
        recipient.send_status = Recipient.SendStatus.ACCEPTED


def outcome_derive(recipient: Recipient, attempts: dict[str, ChannelAttempt]) -> None:
    """Set outcome, failure reason and delivered/read times from the attempts."""
    if recipient.outcome in (
        Recipient.Outcome.SUPPRESSED,
        Recipient.Outcome.CANCELLED,
    ):
        return
    viber, sms = attempts.get(Channel.VIBER), attempts.get(Channel.SMS)
    kind = {name: status_code_info(a.status_code).kind for name, a in attempts.items()}
    overall_kind = status_code_info(recipient.status_code).kind
    if viber and viber.status_code == READ_CODE:
        recipient.read_at = recipient.read_at or viber.updated_on or timezone.now()
    if viber and kind[Channel.VIBER] in DELIVERED_KINDS:
        recipient.outcome = Recipient.Outcome.VIBER_DELIVERED
        recipient.delivered_at = recipient.delivered_at or viber.updated_on
    elif sms and kind[Channel.SMS] in DELIVERED_KINDS:
        recipient.outcome = Recipient.Outcome.SMS_DELIVERED
        recipient.delivered_at = recipient.delivered_at or sms.updated_on
    elif not attempts and overall_kind in DELIVERED_KINDS:
        recipient.outcome = (
            Recipient.Outcome.SMS_DELIVERED
            if recipient.last_channel == Channel.SMS
            else Recipient.Outcome.VIBER_DELIVERED
        )
        recipient.delivered_at = recipient.delivered_at or recipient.status_updated_on
    else:
        _failure_derive(recipient, viber, sms, kind, overall_kind)
    if recipient.read_at and not recipient.delivered_at:
        recipient.delivered_at = recipient.read_at  # read implies delivered


def _failure_derive(recipient, viber, sms, kind, overall_kind) -> None:
    """Nothing delivered yet: failed, if the last leg that could still deliver
    failed (or the report as a whole did)."""
    last_failure = None
    if sms and kind[Channel.SMS] == CodeKind.FAILED:
        last_failure = sms
    elif (
        viber
        and kind[Channel.VIBER] in (CodeKind.FAILED, CodeKind.CHANNEL_FAILED)
        and not recipient.campaign.sms_fallback_enabled
    ):
        # With a fallback, a failed Viber leg only means the SMS is next.
        last_failure = viber
    if last_failure is not None:
        recipient.outcome = Recipient.Outcome.FAILED
        recipient.failure_reason = (
            f"{last_failure.get_channel_display()}: {last_failure.status_code} "
            f"{last_failure.status_description}"
        )[:500]
    elif overall_kind == CodeKind.FAILED:
        recipient.outcome = Recipient.Outcome.FAILED
        recipient.failure_reason = (
            f"{recipient.status_code} {recipient.status_description}"
        )[:500]


def earliest(current: datetime | None, candidate: datetime | None):
    """The earlier of two times, either of which may be unknown."""
    if candidate is None:
        return current
    return candidate if current is None else min(current, candidate)


def earliest_times(recipient: Recipient, report: DeliveryReport) -> None:
    """Delivered and read times are the earliest any report gave, so a late
    duplicate or a read-before-delivered order cannot move them."""
    delivering = {
        Recipient.Outcome.VIBER_DELIVERED: Channel.VIBER,
        Recipient.Outcome.SMS_DELIVERED: Channel.SMS,
    }.get(recipient.outcome)
    for channel in report.channels:
        kind = status_code_info(channel.code).kind
        if channel.channel == delivering and kind in DELIVERED_KINDS:
            recipient.delivered_at = earliest(
                recipient.delivered_at, channel.updated_on
            )
        if channel.channel == Channel.VIBER and channel.code == READ_CODE:
            recipient.read_at = earliest(recipient.read_at, channel.updated_on)


FINAL_STATUS_UNKNOWN = 3039  # Telesign's "Final status unknown"


def final_status_unknown_merge(
    *, recipient: Recipient, attempts: dict[str, ChannelAttempt], description: str
) -> None:
    """Conclude a message nobody will report on as Telesign's own 3039 "final
    status unknown", by the same rules as a callback: a real report that
    still comes wins (same rank, and the conclusion has no time)."""
    conclusion = DeliveryReport(
        reference_id=recipient.reference_id or "",
        external_id=recipient.external_id,
        code=FINAL_STATUS_UNKNOWN,
        description=description,
        last_channel="",
        updated_on=None,
    )
    report_merge(recipient=recipient, attempts=attempts, report=conclusion)
