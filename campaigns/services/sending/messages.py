"""The message Telesign is asked to send to one recipient of a campaign."""

from django.conf import settings
from django.urls import reverse

from ...models import Campaign
from ...sms import personalise
from ...telesign import OmnichannelMessage
from .claims import ClaimedRecipient


def callback_url() -> str:
    """Where Telesign posts delivery reports for the messages sent."""
    return settings.PUBLIC_BASE_URL + reverse("telesign_callbacks")


def campaign_message(
    *, campaign: Campaign, recipient: ClaimedRecipient, send_callback_url: bool
) -> OmnichannelMessage:
    """The campaign's image (or SMS only) for `recipient`, the SMS text
    personalised for their contact when there is one."""
    sms_text = None
    if campaign.sends_sms:
        sms_text = (
            personalise(campaign.sms_text, recipient.contact)
            if recipient.contact
            else campaign.sms_text
        )
    return OmnichannelMessage(
        phone=recipient.phone,
        external_id=recipient.external_id,
        image_url=campaign.image.public_url,
        viber_template=campaign.viber_template,
        fallback_time=campaign.fallback_time,
        sms_text=sms_text,
        message_type=campaign.message_type,
        callback_url=callback_url() if send_callback_url else None,
        viber=not campaign.sms_only,
    )
