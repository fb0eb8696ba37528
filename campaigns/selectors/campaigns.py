"""Reads about campaigns before and during sending: who a launch would
message, the preview's contact, audiences with their sizes, send progress,
and who a follow-up may message."""

from django.db.models import Count, Q, QuerySet

from ..models import Audience, Campaign, Contact, Recipient


def campaign_target_contacts(*, campaign: Campaign) -> QuerySet[Contact]:
    """Contacts a launch would message: in the audiences, not opted out, once each."""
    return Contact.objects.filter(
        audiences__in=campaign.audiences.all(), opted_out_at__isnull=True
    ).distinct()


def campaign_audience_summary(*, campaign: Campaign) -> dict[str, int]:
    """How many contacts the audiences hold, and how many would be messaged."""
    in_audiences = Contact.objects.filter(audiences__in=campaign.audiences.all())
    return in_audiences.aggregate(
        contacts=Count("id", distinct=True),
        opted_out=Count("id", distinct=True, filter=Q(opted_out_at__isnull=False)),
        targeted=Count("id", distinct=True, filter=Q(opted_out_at__isnull=True)),
    )


def campaign_preview_contact(
    *, campaign: Campaign, contact_id: int | None = None
) -> Contact | None:
    """The contact a preview is filled in for: the one asked for, else the first
    targeted contact, else None."""
    targeted = campaign_target_contacts(campaign=campaign)
    if contact_id is not None:
        chosen = targeted.filter(pk=contact_id).first()
        if chosen is not None:
            return chosen
    return targeted.order_by("id").first()


def audiences_with_counts() -> QuerySet[Audience]:
    return Audience.objects.annotate(
        contact_count=Count("contacts", distinct=True),
        opted_out_count=Count(
            "contacts",
            distinct=True,
            filter=Q(contacts__opted_out_at__isnull=False),
        ),
    )


def campaign_send_progress(*, campaign: Campaign) -> dict[str, int]:
    """Recipients of a campaign per send status (test sends excluded)."""

    rows = (
        Recipient.objects.filter(campaign=campaign, is_test=False)
        .values("send_status")
        .annotate(count=Count("id"))
    )
    progress = {status: 0 for status in Recipient.SendStatus.values}
    for row in rows:
        progress[row["send_status"]] = row["count"]
    return progress


# --- Follow-ups -----------------------------------------------------------------

RESENDABLE = {
    "failed": (Recipient.Outcome.FAILED,),
    "failed_or_pending": (Recipient.Outcome.FAILED, Recipient.Outcome.PENDING),
}


def campaign_follow_up_recipients(
    *, campaign: Campaign, include_pending: bool, recipients: QuerySet | None = None
) -> QuerySet[Recipient]:
    """Who a follow-up of `campaign` may message: failed (and, if asked, still
    pending) recipients, never one delivered, opted out, or a test send."""
    outcomes = RESENDABLE["failed_or_pending" if include_pending else "failed"]
    queryset = recipients if recipients is not None else Recipient.objects.all()
    return queryset.filter(
        campaign=campaign,
        is_test=False,
        outcome__in=outcomes,
        contact__opted_out_at__isnull=True,
        opted_out_at__isnull=True,
    ).exclude(send_status__in=Recipient.ACTIVE_SEND_STATUSES)
