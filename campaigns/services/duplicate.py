"""Duplicating a campaign: its content, audiences and sending settings in a
new draft, to change and launch again."""

from django.db import transaction

from ..models import AuditEntry, Campaign
from .governance import Actor, audit_record

# What a copy keeps: the content a marketer wrote and chose, minus its name
# and start time (a copy of a sent campaign would otherwise start in the past).
COPIED_FIELDS = tuple(
    field
    for field in Campaign.CONTENT_FIELDS
    if field not in ("name", "audiences", "scheduled_at")
)
COPY_PREFIX = "Copy of "


def campaign_duplicate(*, campaign: Campaign, actor: Actor) -> Campaign:
    """A new draft with `campaign`'s content, audiences and settings, named
    "Copy of …". Never its status, approval, recipients or history: the copy
    starts as if just written by `actor`."""
    name_max = Campaign._meta.get_field("name").max_length
    with transaction.atomic():
        copy = Campaign.objects.create(
            name=f"{COPY_PREFIX}{campaign.name}"[:name_max],
            status=Campaign.Status.DRAFT,
            created_by=actor.user,
            **{field: getattr(campaign, field) for field in COPIED_FIELDS},
        )
        copy.audiences.set(campaign.audiences.all())
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATED,
            campaign=copy,
            detail=f"Duplicate of “{campaign.name}” (campaign {campaign.pk}).",
        )
    return copy
