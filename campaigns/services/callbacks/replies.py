"""Replies from recipients (Viber and SMS MO messages): stored, and opt-out or
opt-in keywords take effect at once.

A reply never withdraws a campaign's approval (`source=REPLY`). A STOP only
makes a send smaller and is honoured whatever the approval: the launch
suppresses the person and the send loop skips them. A START is the person's
own consent, which no colleague can give to get around the approver. Either
way nobody receives a text the approver did not see, while withdrawing would
let any reply send a scheduled campaign back to draft.
"""

import string

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ...models import CallbackEvent, Contact, InboundMessage, OptOutSource, Recipient
from ...telesign.callbacks import InboundReply
from ..workspace import contacts_opt_in, contacts_opt_out


def _keyword(text: str) -> str:
    return text.strip().strip(string.punctuation + " ").upper()


def _replied_to(reply: InboundReply, phone: str, contact: Contact | None):
    """The recipient a reply answers: the message it quotes, else the latest
    sent to this number."""
    # By contact where the number is known (indexed), else by the number sent to.
    recipients = Recipient.objects.filter(is_test=False).filter(
        Q(contact=contact) if contact else Q(phone=phone)
    )
    recipient = None
    if reply.original_reference_id:
        recipient = recipients.filter(
            Q(reference_id=reply.original_reference_id)
            | Q(attempts__reference_id=reply.original_reference_id)
        ).first()
    return recipient or recipients.exclude(sent_at=None).order_by("-sent_at").first()


def inbound_reply_apply(*, event: CallbackEvent, reply: InboundReply) -> str:
    """Store a reply; opt-out and opt-in keywords take effect at once."""
    phone = "+" + reply.phone.lstrip("+")
    contact = Contact.objects.filter(phone=phone).first()
    recipient = _replied_to(reply, phone, contact)

    keyword = _keyword(reply.text)
    action = InboundMessage.Action.NONE
    if keyword in {k.upper() for k in settings.OPT_OUT_KEYWORDS}:
        action = InboundMessage.Action.OPT_OUT
        if contact is None:
            # Remember the wish, so a later import of this number stays opted out.
            contact = Contact.objects.create(phone=phone)
        contacts_opt_out(contact_ids=[contact.pk], source=OptOutSource.REPLY)
        if recipient is not None:
            Recipient.objects.filter(pk=recipient.pk, opted_out_at=None).update(
                opted_out_at=timezone.now()
            )
    elif keyword in {k.upper() for k in settings.OPT_IN_KEYWORDS} and contact:
        action = InboundMessage.Action.OPT_IN
        contacts_opt_in(contact_ids=[contact.pk], source=OptOutSource.REPLY)

    InboundMessage.objects.create(
        phone=phone[:16],
        text=reply.text,
        action=action,
        contact=contact,
        recipient=recipient,
        campaign_id=recipient.campaign_id if recipient else None,
        event=event,
    )
    event.kind = CallbackEvent.Kind.INBOUND
    event.reference_id = reply.reference_id or ""
    event.recipient = recipient
    event.processing = CallbackEvent.Processing.APPLIED
    event.error = ""
    event.save(
        update_fields=["kind", "reference_id", "recipient", "processing", "error"]
    )
    return CallbackEvent.Processing.APPLIED
