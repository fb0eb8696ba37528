"""Reads for a campaign while it is being built: what the editor's form, as
typed and not yet saved, would message and cost; the preview's search over
every targeted contact; and, once sending, who waits for their send window."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q

from ..models import Audience, Campaign, Contact, ImageAsset, Recipient
from ..phones import PhoneNumberError, phone_normalize
from ..sms import is_blank, personalise, sms_length_summary
from .campaigns import (
    audience_target_contacts,
    audiences_summary,
    campaign_target_contacts,
)
from .costs import campaign_cost_estimate
from .personalisation import sms_text_problems

# The preview's contact search shows at most this many matches.
CONTACT_MATCHES_SHOWN = 20


@dataclass(frozen=True)
class DraftFigures:
    """What the editor's side panel shows for the form as typed.

    `sms_text` is the SMS personalised for `contact` (the first targeted
    contact), or as written when `sms_problems` says why it cannot be sent;
    `cost` is `campaign_cost_estimate`'s answer (None without prices).
    """

    image: ImageAsset | None
    contacts: int
    opted_out: int
    targeted: int
    duration_minutes: int
    cost: dict | None
    contact: Contact | None
    sms_text: str
    sms_length: str
    sms_problems: list[str]
    sms_blank: bool


def campaign_draft_figures(
    *, draft: Campaign, image_id: int | None, audience_ids: Sequence[int]
) -> DraftFigures:
    """Recipients, duration, cost and the personalised SMS of an unsaved
    campaign (`draft` holds the typed fields; its audiences and image are
    given by id, as the form holds them)."""
    summary = audiences_summary(audience_ids=audience_ids)
    targeted = summary["targeted"]
    audiences = list(Audience.objects.filter(pk__in=list(audience_ids)))
    problems = (
        sms_text_problems(text=draft.sms_text, audiences=audiences)
        if draft.sends_sms and draft.sms_text
        else []
    )
    contact = audience_target_contacts(audience_ids=audience_ids).order_by("id").first()
    if problems or contact is None:
        sms_text = draft.sms_text
    else:
        sms_text = personalise(draft.sms_text, contact)
    return DraftFigures(
        image=ImageAsset.objects.filter(pk=image_id).first() if image_id else None,
        contacts=summary["contacts"],
        opted_out=summary["opted_out"],
        targeted=targeted,
        duration_minutes=max(1, round(targeted / max(1, draft.max_send_rate) / 60)),
        cost=campaign_cost_estimate(campaign=draft, targeted=targeted),
        contact=contact,
        sms_text=sms_text,
        sms_length=sms_length_summary(sms_text),
        sms_problems=problems,
        sms_blank=bool(contact and draft.sends_sms and not problems)
        and is_blank(sms_text),
    )


def _contact_search(query: str) -> Q:
    """Contacts whose name holds `query`, or whose number holds its digits
    (written with `+`, `00`, a leading 0 or spaces) or is the number it spells."""
    matches = Q(name__icontains=query)
    digits = "".join(ch for ch in query if ch.isdigit()).lstrip("0")
    if len(digits) >= 3:
        matches |= Q(phone__contains=digits)
    try:
        number = phone_normalize(query, default_region=settings.DEFAULT_PHONE_REGION)
    except PhoneNumberError:
        pass
    else:
        matches |= Q(phone=number)
    return matches


def campaign_contacts_search(
    *, campaign: Campaign, query: str, limit: int = CONTACT_MATCHES_SHOWN
) -> list[Contact]:
    """The campaign's targeted contacts matching `query` by name or number,
    in id order; the first `limit`. Only for people allowed to see contacts."""
    query = query.strip()
    targeted = campaign_target_contacts(campaign=campaign).order_by("id")
    if query:
        targeted = targeted.filter(_contact_search(query))
    return list(targeted[:limit])


def campaign_contact_at(*, campaign: Campaign, position: int) -> Contact | None:
    """The targeted contact at `position` (1 is the first, by id): how someone
    not allowed to see contacts picks any of them, as "Contact 1234"."""
    if position < 1:
        return None
    targeted = campaign_target_contacts(campaign=campaign).order_by("id")
    return targeted[position - 1 : position].first()


def campaign_contact_position(*, campaign: Campaign, contact: Contact) -> int:
    """Where `contact` stands among the targeted contacts (1 is the first)."""
    targeted = campaign_target_contacts(campaign=campaign)
    return targeted.filter(pk__lt=contact.pk).count() + 1


def campaign_recipients_waiting_for_window(*, campaign: Campaign, now: datetime) -> int:
    """Recipients held back until their send window opens in their own zone.

    The engine queues them with `next_attempt_at` at the window's opening
    (sending/claims.py). A retry after a refused send is queued the same way
    but counts its attempt; so a queued recipient with a future
    `next_attempt_at` and no attempt made is one waiting for its window.
    """
    if not campaign.has_send_window:
        return 0
    return Recipient.objects.filter(
        campaign=campaign,
        is_test=False,
        send_status=Recipient.SendStatus.QUEUED,
        send_attempts=0,
        next_attempt_at__gt=now,
    ).count()
