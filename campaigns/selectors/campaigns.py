"""Reads about campaigns before and during sending: who a launch would
message and how long it would take, the preview, the test sends, audiences
with their sizes, send progress, who a follow-up may message, and which
campaigns a comparison shows."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from ..models import Audience, Campaign, Contact, Recipient, TestSend
from ..sms import (
    SmsSegments,
    is_blank,
    personalise,
    sms_length_summary,
    sms_segments,
)
from .personalisation import campaign_sms_problems

# The preview's contact picker offers the first targeted contacts, no more.
PREVIEW_SAMPLE_CONTACTS = 20
# A comparison shows at most this many campaigns side by side.
COMPARE_MAX = 6


def audience_target_contacts(*, audience_ids: Sequence[int]) -> QuerySet[Contact]:
    """Contacts a launch to these audiences would message: not opted out, once."""
    return Contact.objects.filter(
        audiences__in=list(audience_ids), opted_out_at__isnull=True
    ).distinct()


def campaign_target_contacts(*, campaign: Campaign) -> QuerySet[Contact]:
    """Contacts a launch would message: in the audiences, not opted out, once each."""
    return Contact.objects.filter(
        audiences__in=campaign.audiences.all(), opted_out_at__isnull=True
    ).distinct()


def campaign_audience_summary(*, campaign: Campaign) -> dict[str, int]:
    """How many contacts the audiences hold, and how many would be messaged."""
    return audiences_summary(
        audience_ids=campaign.audiences.values_list("pk", flat=True)
    )


def audiences_summary(*, audience_ids: Sequence[int]) -> dict[str, int]:
    """How many contacts these audiences hold, and how many would be messaged."""
    in_audiences = Contact.objects.filter(audiences__in=list(audience_ids))
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


@dataclass(frozen=True)
class CampaignPreview:
    """What the campaign's preview page shows.

    `sms_text` is the SMS personalised for `contact` (empty without one), or
    as written when `sms_problems` says why it cannot be sent; `sms_segments`
    counts that text; `sms_blank` is true when the SMS personalised for
    `contact` is empty, so it would never be sent to them;
    `sample_contacts` are the targeted contacts the page offers to preview
    for instead.
    """

    contact: Contact | None
    sms_text: str
    sms_segments: SmsSegments
    sample_contacts: list[Contact]
    sms_problems: list[str]
    sms_blank: bool
    sms_length: str = ""


def campaign_preview(
    *, campaign: Campaign, contact_id: int | None = None
) -> CampaignPreview:
    """The campaign's message as `contact_id` (else the first targeted
    contact) would receive it. Placeholders the audiences have no field for
    are shown as written, never filled in as blanks."""
    contact = campaign_preview_contact(campaign=campaign, contact_id=contact_id)
    problems = campaign_sms_problems(campaign=campaign)
    if problems:
        sms_text = campaign.sms_text
    else:
        sms_text = personalise(campaign.sms_text, contact) if contact else ""
    sample = campaign_target_contacts(campaign=campaign).order_by("id")
    return CampaignPreview(
        contact=contact,
        sms_text=sms_text,
        sms_segments=sms_segments(sms_text),
        sms_length=sms_length_summary(sms_text),
        sample_contacts=list(sample[:PREVIEW_SAMPLE_CONTACTS]),
        sms_problems=problems,
        sms_blank=bool(contact and campaign.sends_sms and not problems)
        and is_blank(sms_text),
    )


@dataclass(frozen=True)
class LaunchEstimate:
    """What a launch would do now: the audience summary's counts and about
    how long sending takes at the campaign's maximum rate."""

    contacts: int
    opted_out: int
    targeted: int
    duration_minutes: int  # rounded, at least one


def campaign_launch_estimate(*, campaign: Campaign) -> LaunchEstimate:
    summary = campaign_audience_summary(campaign=campaign)
    seconds = summary["targeted"] / campaign.max_send_rate
    return LaunchEstimate(
        contacts=summary["contacts"],
        opted_out=summary["opted_out"],
        targeted=summary["targeted"],
        duration_minutes=max(1, round(seconds / 60)),
    )


def campaign_test_sends(*, campaign: Campaign) -> QuerySet[TestSend]:
    """The campaign's test sends, the latest first, with their recipients."""
    return TestSend.objects.filter(campaign=campaign).select_related("recipient")


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


def campaign_follow_up_size(*, follow_up: Campaign) -> int:
    """How many contacts a follow-up campaign will message: the members of
    the one audience campaign_follow_up_create made for it."""
    return follow_up.audiences.get().contacts.count()


# --- Comparison -------------------------------------------------------------------


def campaign_ids_newest_first(*, campaigns: QuerySet[Campaign]) -> list[int]:
    """The ids of `campaigns`, the newest campaign first."""
    return list(campaigns.order_by("-created_at").values_list("pk", flat=True))


def campaigns_to_compare(*, campaign_ids: Sequence[int]) -> list[Campaign]:
    """The campaigns a comparison shows: the first COMPARE_MAX of
    `campaign_ids` that exist, newest first."""
    return list(
        Campaign.objects.filter(pk__in=campaign_ids[:COMPARE_MAX]).order_by(
            "-created_at"
        )
    )
