"""The message Telesign is asked to send to one recipient of a campaign, and
the recipients who must get none because their SMS would be empty."""

from django.conf import settings
from django.urls import reverse

from ...models import Campaign, Contact, Recipient
from ...sms import is_blank, personalise
from ...telesign import OmnichannelMessage
from .claims import ClaimedRecipient

# Why a recipient whose personalised SMS is empty was not sent: one text for
# all of them, so the report counts them as one reason.
EMPTY_SMS_REASON = (
    "Not sent: the SMS text is empty once personalised for this contact (the "
    "fields it uses are blank). A fallback such as {first_name|there} avoids it."
)


def callback_url() -> str:
    """Where Telesign posts delivery reports for the messages sent."""
    return settings.PUBLIC_BASE_URL + reverse("telesign_callbacks")


def campaign_sms_text(*, campaign: Campaign, contact: Contact | None) -> str | None:
    """The campaign's SMS text personalised for `contact` (None: a number
    outside the contacts, its fields blank), or None if it sends no SMS."""
    if not campaign.sends_sms:
        return None
    return personalise(campaign.sms_text, contact)


def campaign_message(
    *, campaign: Campaign, recipient: ClaimedRecipient, send_callback_url: bool
) -> OmnichannelMessage:
    """The campaign's image (or SMS only) for `recipient`, the SMS text
    personalised for their contact."""
    return OmnichannelMessage(
        phone=recipient.phone,
        external_id=recipient.external_id,
        image_url=campaign.image.public_url,
        viber_template=campaign.viber_template,
        fallback_time=campaign.fallback_time,
        sms_text=campaign_sms_text(campaign=campaign, contact=recipient.contact),
        message_type=campaign.message_type,
        callback_url=callback_url() if send_callback_url else None,
        viber=not campaign.sms_only,
    )


def recipients_empty_sms_fail(
    *, campaign: Campaign, claimed: list[ClaimedRecipient], worker_id: str
) -> list[ClaimedRecipient]:
    """Fail the claimed recipients whose personalised SMS would be empty, with
    no request to Telesign (it would refuse it, 3305, and Viber alone is not
    what was approved); returns the others, to be sent.

    They end `failed` but never sent (no `sent_at`): the report counts them
    with their reason, and the automatic pause, which judges Telesign's
    answers, does not.
    """
    if not campaign.sends_sms:
        return claimed
    empty = [
        recipient.id
        for recipient in claimed
        if is_blank(campaign_sms_text(campaign=campaign, contact=recipient.contact))
    ]
    if not empty:
        return claimed
    Recipient.objects.filter(
        id__in=empty, claimed_by=worker_id, send_status=Recipient.SendStatus.CLAIMED
    ).update(
        send_status=Recipient.SendStatus.SKIPPED,
        outcome=Recipient.Outcome.FAILED,
        failure_reason=EMPTY_SMS_REASON,
        claimed_by="",
        claimed_at=None,
    )
    skipped = set(empty)
    return [recipient for recipient in claimed if recipient.id not in skipped]
