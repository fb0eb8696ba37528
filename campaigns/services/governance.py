"""Who may do what: the audit trail, four-eyes approval, the client's address."""

import ipaddress
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import AudienceMember, AuditEntry, Campaign
from ..sms import template_fields
from .errors import DomainError


@dataclass(frozen=True)
class Actor:
    """The person (None: the system itself) behind an action, and their address."""

    user: object | None = None
    remote_addr: str | None = None

    @property
    def username(self) -> str:
        return self.user.get_username() if self.user is not None else ""


SYSTEM = Actor()


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT
    proxies, the address the outermost trusted proxy saw."""
    address = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [
            hop.strip()
            for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if hop.strip()
        ]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def actor_from_request(request) -> Actor:
    user = getattr(request, "user", None)
    return Actor(
        user=user if user is not None and user.is_authenticated else None,
        remote_addr=client_address(request),
    )


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    campaign: Campaign | None = None,
    detail: str = "",
) -> AuditEntry:
    actor = actor or SYSTEM
    return AuditEntry.objects.create(
        user=actor.user,
        username=actor.username,
        action=action,
        campaign=campaign,
        campaign_name=campaign.name if campaign else "",
        detail=detail,
        remote_addr=actor.remote_addr,
    )


# --- Four-eyes approval ---------------------------------------------------------


def campaign_approval_problems(*, campaign: Campaign) -> list[str]:
    """Why `campaign` may not start yet under four-eyes launch (or nothing)."""
    if settings.FOUR_EYES_LAUNCH and campaign.approved_at is None:
        return [
            "This campaign needs the approval of someone other than its author "
            "before it can start."
        ]
    return []


def campaign_approve(*, campaign: Campaign, actor: Actor) -> Campaign:
    """Approve a draft or scheduled campaign; never by its own author."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status not in Campaign.EDITABLE_STATUSES:
            raise DomainError(
                f"“{campaign}” is {campaign.get_status_display().lower()}; only a "
                "draft or scheduled campaign can be approved."
            )
        if actor.user is None:
            raise DomainError("Only a signed-in person can approve a campaign.")
        if campaign.created_by_id == actor.user.pk:
            raise DomainError(
                f"You created “{campaign}”; someone else must approve it."
            )
        if campaign.approved_at is not None:
            raise DomainError(f"“{campaign}” is already approved.")
        campaign.approved_by = actor.user
        campaign.approved_at = timezone.now()
        campaign.save(update_fields=["approved_by", "approved_at", "updated_at"])
        audit_record(actor=actor, action=AuditEntry.Action.APPROVED, campaign=campaign)
    return campaign


def campaign_saved(
    *, campaign: Campaign, actor: Actor, created: bool, changed: list[str]
) -> None:
    """Record a creation or an edit; an edit of the content after approval
    withdraws the approval (the approver approved what they saw)."""
    if created:
        audit_record(actor=actor, action=AuditEntry.Action.CREATED, campaign=campaign)
        return
    if not changed:
        return
    audit_record(
        actor=actor,
        action=AuditEntry.Action.EDITED,
        campaign=campaign,
        detail="Changed: " + ", ".join(sorted(changed)),
    )
    if campaign.approved_at is not None and set(Campaign.CONTENT_FIELDS) & set(changed):
        approval_withdraw(campaign=campaign, actor=actor, why="Edited after approval.")


def campaigns_audience_grew(*, audience, added: int, actor: Actor | None) -> None:
    """Contacts joined an audience: campaigns approved to message it (and not
    started yet) would now reach people their approver did not see."""
    approved = Campaign.objects.filter(
        audiences=audience,
        approved_at__isnull=False,
        status__in=Campaign.EDITABLE_STATUSES,
    ).distinct()
    for campaign in approved:
        approval_withdraw(
            campaign=campaign,
            actor=actor,
            why=f"{added} contact(s) added to audience “{audience}” after approval.",
        )


# Contact ids per query when looking for them in a campaign's audiences.
CONTACT_IDS_PER_QUERY = 500


def approved_campaigns_not_started_exist() -> bool:
    """Whether any approval could be withdrawn by a change to contacts."""
    return Campaign.objects.filter(
        approved_at__isnull=False, status__in=Campaign.EDITABLE_STATUSES
    ).exists()


def campaigns_contacts_changed(
    *,
    changes: Mapping[int, Collection[str] | None],
    actor: Actor | None,
    what: str,
) -> int:
    """Contacts changed: withdraw the approval of every campaign approved and
    not started whose audiences hold one of them, if the change alters what
    it would send. Returns how many approvals were withdrawn.

    `changes` maps a contact id to the fields that changed (as a text uses
    them: `name`, `first_name`, an attribute …), or to None when who is
    messaged changed (opt-out, number, removal): that matters to every such
    campaign, a field only to one whose SMS text uses it. `what` says what
    happened to them ("were edited in the admin"), for the audit trail.
    """
    if not changes:
        return 0
    withdrawn = 0
    approved = Campaign.objects.filter(
        approved_at__isnull=False, status__in=Campaign.EDITABLE_STATUSES
    ).only("id", "name", "sms_text", "sms_fallback_enabled", "sms_only")
    for campaign in approved:
        used = set(template_fields(campaign.sms_text)) if campaign.sends_sms else set()
        relevant = [
            contact_id
            for contact_id, fields in changes.items()
            if fields is None or used & set(fields)
        ]
        members = _campaign_members_among(campaign=campaign, contact_ids=relevant)
        if not members:
            continue
        fields_hit = sorted(
            set().union(*(used & set(changes[m] or ()) for m in members))
        )
        why = f"{len(members)} contact(s) of its audiences {what} after approval"
        why += (
            f" (fields its text uses: {', '.join(fields_hit)})." if fields_hit else "."
        )
        approval_withdraw(campaign=campaign, actor=actor, why=why)
        withdrawn += 1
    return withdrawn


def _campaign_members_among(*, campaign: Campaign, contact_ids: list[int]) -> set[int]:
    """Which of `contact_ids` are in the campaign's audiences."""
    found: set[int] = set()
    for start in range(0, len(contact_ids), CONTACT_IDS_PER_QUERY):
        found.update(
            AudienceMember.objects.filter(
                audience__campaigns=campaign,
                contact_id__in=contact_ids[start : start + CONTACT_IDS_PER_QUERY],
            ).values_list("contact_id", flat=True)
        )
    return found


def campaigns_audience_removed(*, audience, actor: Actor | None) -> None:
    """An audience is about to be deleted: campaigns approved to message it
    (and not started) would reach fewer people than their approver saw."""
    approved = Campaign.objects.filter(
        audiences=audience,
        approved_at__isnull=False,
        status__in=Campaign.EDITABLE_STATUSES,
    ).distinct()
    for campaign in approved:
        approval_withdraw(
            campaign=campaign,
            actor=actor,
            why=f"Audience “{audience}” deleted after approval.",
        )


def approval_withdraw(*, campaign: Campaign, actor: Actor | None, why: str) -> None:
    """Withdraw a campaign's approval. With four-eyes launch, a scheduled
    campaign also goes back to draft: it must not start unapproved."""
    with transaction.atomic():
        locked = (
            Campaign.objects.select_for_update(no_key=True)
            .filter(
                pk=campaign.pk,
                status__in=Campaign.EDITABLE_STATUSES,
            )
            .first()
        )
        if locked is None or locked.approved_at is None:
            return  # started meanwhile (approval no longer matters), or not approved
        changes = {"approved_by": None, "approved_at": None}
        detail = why
        if settings.FOUR_EYES_LAUNCH and locked.status == Campaign.Status.SCHEDULED:
            changes |= {
                "status": Campaign.Status.DRAFT,
                "status_reason": "Approval withdrawn: approve and schedule it again.",
            }
            detail += (
                " Back to draft: it will not start until approved and scheduled again."
            )
        Campaign.objects.filter(pk=locked.pk).update(**changes)
        for name, value in changes.items():
            setattr(campaign, name, value)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.APPROVAL_WITHDRAWN,
            campaign=campaign,
            detail=detail,
        )
