"""What the admin tests share: one row of every model and both kinds of user."""

import pytest

from campaigns.models import (
    CallbackEvent,
    CallbackRejection,
    ChannelAttempt,
    InboundMessage,
    Recipient,
)

from ..factories import make_audience, make_campaign, make_contact


@pytest.fixture
def records():
    """One row of every model, so change pages have something to show."""
    contact = make_contact(name="Ana Lima", attributes={"city": "Porto"})
    audience = make_audience("VIPs", [contact])
    campaign = make_campaign([audience])
    recipient = Recipient.objects.create(
        campaign=campaign, contact=contact, phone=contact.phone, external_id="e1"
    )
    ChannelAttempt.objects.create(recipient=recipient, channel="viber", position=0)
    event = CallbackEvent.objects.create(
        method="POST", raw_body=b"{}", signature="valid", recipient=recipient
    )
    reply = InboundMessage.objects.create(
        phone=contact.phone, text="Thanks!", contact=contact, event=event
    )
    rejection = CallbackRejection.objects.create(
        day="2026-11-28", reason="bad_signature", count=3, last_at="2026-11-28T10:00Z"
    )
    return {
        "inboundmessage": reply,
        "callbackrejection": rejection,
        "imageasset": campaign.image,
        "audience": audience,
        "contact": contact,
        "campaign": campaign,
        "recipient": recipient,
        "channelattempt": recipient.attempts.get(),
        "callbackevent": event,
    }


@pytest.fixture(params=["superuser", "marketer"])
def any_client(request, admin_client, marketer_client):
    return admin_client if request.param == "superuser" else marketer_client
