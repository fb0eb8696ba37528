"""Reads about one contact: every message the campaigns sent them."""

from dataclasses import dataclass

from ..models import Contact, Recipient

# The contact page lists this many messages, the latest first.
CONTACT_MESSAGES_SHOWN = 100


@dataclass(frozen=True)
class ContactMessages:
    """A contact's messages, the latest first, each with its campaign; `more`
    says whether older ones were left out."""

    messages: list[Recipient]
    more: bool


def contact_messages(
    *, contact: Contact, limit: int = CONTACT_MESSAGES_SHOWN
) -> ContactMessages:
    """Every campaign's message to `contact` (test sends included): channel,
    outcome, when it was sent, delivered and read."""
    rows = list(
        Recipient.objects.filter(contact=contact)
        .select_related("campaign")
        .order_by("-id")[: limit + 1]
    )
    return ContactMessages(messages=rows[:limit], more=len(rows) > limit)
