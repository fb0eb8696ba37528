"""recipient_timeline: one message's story in time order; and the callbacks
received about a recipient."""

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


def _callback(recipient, seconds, code):
    event = CallbackEvent.objects.create(
        method="POST",
        raw_body=b"{}",
        signature=CallbackEvent.Signature.VALID,
        kind=CallbackEvent.Kind.DELIVERY,
        processing=CallbackEvent.Processing.APPLIED,
        status_code=code,
        recipient=recipient,
    )
    CallbackEvent.objects.filter(pk=event.pk).update(received_at=at(seconds))
    return event


def test_a_recipients_callbacks_are_listed_oldest_first_up_to_the_limit(finished):
    _, rows = finished
    recipient = rows["read"]
    late = _callback(recipient, 60, 3005)
    early = _callback(recipient, 10, 3000)
    middle = _callback(recipient, 30, 3001)
    _callback(rows["viber"], 5, 3000)  # another recipient's
    listed = selectors.recipient_callback_events
    assert listed(recipient=recipient, limit=100) == [early, middle, late]
    assert [e.status_code for e in listed(recipient=recipient, limit=2)] == [
        3000,
        3001,
    ]
    assert listed(recipient=rows["queued"], limit=100) == []
