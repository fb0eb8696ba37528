"""Replies from recipients: stored, and opt-out or opt-in keywords take effect
at once (sent through the signed endpoint)."""

from datetime import UTC, datetime

import pytest

from campaigns.models import Contact, InboundMessage, Recipient
from campaigns.services import sending

from ...callback_helpers import make_recipient, post_callback, viber_reply
from ...factories import make_audience, make_campaign, make_contact

pytestmark = pytest.mark.django_db


def test_stop_reply_opts_out_and_a_later_campaign_skips_the_contact(client):
    contact = make_contact("+447911555001", name="Ana")
    recipient = make_recipient(
        contact=contact,
        reference_id="A" * 32,
        sent_at=datetime(2026, 11, 28, tzinfo=UTC),
    )
    assert (
        post_callback(client, viber_reply(contact.phone, " stop ")).status_code == 200
    )
    contact.refresh_from_db()
    recipient.refresh_from_db()
    assert contact.is_opted_out and contact.opt_out_source == "reply"
    assert recipient.opted_out_at is not None
    reply = InboundMessage.objects.get()
    assert (reply.action, reply.campaign_id, reply.recipient_id) == (
        "opt_out",
        recipient.campaign_id,
        recipient.pk,
    )

    later = make_campaign([make_audience(contacts=[contact, make_contact()])])
    result = sending.campaign_launch(campaign=later)
    assert result.suppressed == 1
    assert Recipient.objects.get(
        campaign=later, contact=contact
    ).suppression_reason == ("opted_out")


def test_start_reply_opts_back_in_and_other_replies_are_stored(client):
    contact = make_contact(
        "+447911555002", opted_out_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    post_callback(client, viber_reply(contact.phone, "START"))
    contact.refresh_from_db()
    assert not contact.is_opted_out
    post_callback(client, viber_reply(contact.phone, "What time do you open?"))
    assert list(
        InboundMessage.objects.order_by("received_at").values_list("action", "text")
    ) == [("opt_in", "START"), ("none", "What time do you open?")]


def test_stop_from_an_unknown_number_is_remembered(client):
    post_callback(client, viber_reply("+447911555003", "UNSUBSCRIBE"))
    assert Contact.objects.get(phone="+447911555003").is_opted_out


def test_sms_reply_shape_is_understood(client):
    contact = make_contact("+447911555004")
    payload = {
        "reference_id": "8" * 32,
        "sub_resource": "mo_sms",
        "errors": {},
        "user_response": {
            "phone_number": contact.phone.lstrip("+"),
            "mo_message": "Stop",
            "action": "stop",
        },
    }
    assert post_callback(client, payload).status_code == 200
    contact.refresh_from_db()
    assert contact.is_opted_out


def test_a_reply_quoting_a_message_belongs_to_that_recipient(client):
    contact = make_contact("+447911555006")
    quoted = make_recipient(
        contact=contact,
        reference_id="Q" * 32,
        sent_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    make_recipient(contact=contact, sent_at=datetime(2026, 11, 28, tzinfo=UTC))
    post_callback(client, viber_reply(contact.phone, "Thanks", original="Q" * 32))
    assert InboundMessage.objects.get().recipient == quoted


def test_opted_out_while_sending_is_skipped_by_the_engine():
    contact = make_contact("+447911555005")
    campaign = make_campaign([make_audience(contacts=[contact])])
    sending.campaign_launch(campaign=campaign)
    Contact.objects.filter(pk=contact.pk).update(opted_out_at=datetime.now(UTC))
    assert sending.recipients_claim(campaign=campaign, worker_id="w", limit=10) == []
    recipient = Recipient.objects.get(campaign=campaign)
    assert (recipient.outcome, recipient.suppression_reason) == (
        "suppressed",
        "opted_out",
    )
