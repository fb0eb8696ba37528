"""recipient_timeline: one message's story in time order."""

import pytest
from django.urls import reverse

from campaigns import selectors
from campaigns.models import CallbackEvent, Recipient

from ..report_helpers import at

pytestmark = pytest.mark.django_db


def test_the_timeline_tells_the_story_in_time_order(finished):
    _, rows = finished
    Recipient.objects.filter(pk=rows["read"].pk).update(created_at=at(-60))
    recipient = Recipient.objects.get(pk=rows["read"].pk)
    event = CallbackEvent.objects.create(
        method="POST",
        raw_body=b"{}",
        signature=CallbackEvent.Signature.VALID,
        kind=CallbackEvent.Kind.DELIVERY,
        processing=CallbackEvent.Processing.APPLIED,
        status_code=3005,
        recipient=recipient,
    )
    CallbackEvent.objects.filter(pk=event.pk).update(received_at=at(59))
    steps = selectors.recipient_timeline(recipient=recipient)
    assert [step.text for step in steps] == [
        "Queued for sending",
        "Sent to Telesign (accepted by telesign)",
        "Delivered (Delivered on Viber)",
        "Callback received: delivery status, code 3005 (Applied)",
        # The same moment: the channel's status, then what it means.
        "Viber: 3005 Message is read",
        "Read on Viber",
    ]
    assert [step.at for step in steps] == sorted(step.at for step in steps)
    callback = steps[3]
    assert callback.url == reverse(
        "admin:campaigns_callbackevent_change", args=[event.pk]
    )


def test_a_queued_recipient_has_only_its_first_step(finished):
    _, rows = finished
    steps = selectors.recipient_timeline(recipient=rows["queued"])
    assert [(step.text, step.url) for step in steps] == [("Queued for sending", "")]
