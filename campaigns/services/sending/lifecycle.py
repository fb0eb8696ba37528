"""Pause, resume and cancel a campaign, by a person or by the engine itself.

A pause or cancel only changes the campaign row: the workers notice it within
about a second and give back what they had claimed.
"""

import logging

from django.db import transaction
from django.utils import timezone

from ...models import AuditEntry, Campaign, Recipient
from ...telesign import SendResult
from ..errors import DomainError
from ..governance import Actor, audit_record
from .launch import campaign_launch
from .scheduling import send_tasks_enqueue

logger = logging.getLogger(__name__)

RS = Recipient.SendStatus


def _campaign_transition(
    *,
    campaign_id: int,
    allowed: tuple,
    to: str,
    reason: str = "",
    actor: Actor | None = None,
    action: str = "",
) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status not in allowed:
            raise DomainError(
                f"“{campaign}” is {campaign.get_status_display().lower()}; it cannot "
                f"be {Campaign.Status(to).label.lower()} from there."
            )
        campaign.status = to
        campaign.status_reason = reason
        fields = ["status", "status_reason", "updated_at"]
        if to in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED):
            campaign.completed_at = timezone.now()
            fields.append("completed_at")
        campaign.save(update_fields=fields)
        if action:
            audit_record(actor=actor, action=action, campaign=campaign, detail=reason)
    return campaign


def campaign_pause(
    *,
    campaign: Campaign,
    reason: str = "Paused by a user.",
    actor: Actor | None = None,
) -> Campaign:
    """Stop sending within seconds; claimed recipients go back to the queue."""
    return _campaign_transition(
        campaign_id=campaign.pk,
        allowed=(Campaign.Status.SENDING, Campaign.Status.SCHEDULED),
        to=Campaign.Status.PAUSED,
        reason=reason,
        actor=actor,
        action=AuditEntry.Action.PAUSED,
    )


def campaign_resume(*, campaign: Campaign, actor: Actor | None = None) -> Campaign:
    """Continue from the recipient records: whoever is still queued is sent."""
    resumed = _campaign_transition(
        campaign_id=campaign.pk,
        allowed=(Campaign.Status.PAUSED,),
        to=Campaign.Status.SENDING,
        actor=actor,
        action=AuditEntry.Action.RESUMED,
    )
    if resumed.started_at is None:
        # Paused while scheduled: start properly (materialise) now.
        Campaign.objects.filter(pk=resumed.pk).update(status=Campaign.Status.DRAFT)
        return campaign_launch(campaign=resumed, actor=actor).campaign
    # Slots reserved before the pause went unused: sending starts again now,
    # not where they ended.
    Campaign.objects.filter(pk=resumed.pk).update(next_send_slot_at=None)
    transaction.on_commit(lambda: send_tasks_enqueue(campaign_id=resumed.pk))
    return resumed


def campaign_cancel(*, campaign: Campaign, actor: Actor | None = None) -> Campaign:
    """Stop for good; recipients not yet sent are marked as not sent."""
    with transaction.atomic():
        cancelled = _campaign_transition(
            campaign_id=campaign.pk,
            allowed=(
                Campaign.Status.DRAFT,
                Campaign.Status.SCHEDULED,
                Campaign.Status.SENDING,
                Campaign.Status.PAUSED,
            ),
            to=Campaign.Status.CANCELLED,
            reason="Cancelled by a user.",
            actor=actor,
            action=AuditEntry.Action.CANCELLED,
        )
        Recipient.objects.filter(
            campaign=cancelled, is_test=False, send_status__in=(RS.QUEUED, RS.CLAIMED)
        ).update(
            send_status=RS.CANCELLED,
            outcome=Recipient.Outcome.CANCELLED,
            claimed_by="",
            claimed_at=None,
        )
    return cancelled


def campaign_pause_by_engine(
    *, campaign_id: int, reason: str, level: int = logging.WARNING
) -> bool:
    """Pause a sending campaign without a person: logged, and in the audit
    trail as the system. False if it was no longer sending."""
    paused = Campaign.objects.filter(
        pk=campaign_id, status=Campaign.Status.SENDING
    ).update(status=Campaign.Status.PAUSED, status_reason=reason[:500])
    if paused:
        logger.log(level, "campaign %s %s", campaign_id, reason)
        audit_record(
            actor=None,
            action=AuditEntry.Action.PAUSED,
            campaign=Campaign.objects.get(pk=campaign_id),
            detail=reason,
        )
    return bool(paused)


def campaign_pause_for_credentials(*, campaign_id: int, result: SendResult) -> None:
    """Telesign refused the credentials: pause, saying what to check."""
    reason = (
        f"Paused: Telesign refused the credentials ({result.code or ''} "
        f"{result.description}). Ask an administrator to check the Telesign "
        "customer id and API key (and that the account has Viber and omnichannel "
        "enabled), then resume."
    )
    campaign_pause_by_engine(
        campaign_id=campaign_id, reason=reason, level=logging.ERROR
    )
