"""Sign callback payloads as Telesign does, post them to the app, and build the
recipients and report sequences the callback tests share."""

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from campaigns.models import CallbackEvent, Recipient
from campaigns.services.callbacks import callback_store, delivery_report_apply
from campaigns.telesign.callbacks import parse_callback
from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
from campaigns.telesign.signing import callback_signature

from .factories import make_campaign, make_contact

URL = "/api/telesign/callbacks/"
SEED = Path(__file__).parent / "fixtures" / "telesign" / "seed_callback.json"
SEED_REFERENCE = "35C8B5D509BC10689196FED2AD551B8A"
RS = Recipient.SendStatus


def signed_headers(body: bytes, *, key=SANDBOX_API_KEY, customer=SANDBOX_CUSTOMER_ID):
    return {"Authorization": f"TSA {customer}:{callback_signature(key, body)}"}


def post_callback(client, payload, *, method="post", headers=None, **sign):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = signed_headers(body, **sign) if headers is None else headers
    return client.generic(
        method.upper(),
        URL,
        data=body,
        content_type="application/json",
        headers=headers,
    )


def delivery(
    reference_id,
    *,
    code,
    channels=(),
    external_id=None,
    last="viber",
    at="2026-11-28 10:00:00:000",
):
    """A delivery report; channels are (name, code, reference, updated_on)."""
    return {
        "reference_id": reference_id,
        "external_id": external_id,
        "status": {
            "code": code,
            "description": f"status {code}",
            "last_channel": last,
            "updated_on": at,
        },
        "channel_status": [
            {
                name: {
                    "code": ch_code,
                    "description": f"status {ch_code}",
                    **({"reference_id": ref} if ref else {}),
                    "updated_on": ch_at,
                }
            }
            for name, ch_code, ref, ch_at in channels
        ],
    }


def viber_reply(phone, text, original=None):
    return {
        "reference_id": "9" * 32,
        "status": {
            "code": 1500,
            "description": "Delivered",
            "updated_on": "2026-11-28T10:00:00Z",
        },
        "phone_number": phone.lstrip("+"),
        "content": {"text": text, "original_reference_id": original},
    }


def make_recipient(campaign=None, **fields):
    campaign = campaign or make_campaign()
    contact = fields.pop("contact", None) or make_contact()
    defaults = {
        "phone": contact.phone,
        "external_id": f"c{campaign.pk}-{contact.pk}",
        "send_status": RS.ACCEPTED,
    }
    return Recipient.objects.create(
        campaign=campaign, contact=contact, **{**defaults, **fields}
    )


_references = itertools.count()


def new_reference() -> str:
    """A reference id no other recipient of the test run has."""
    return f"{next(_references):032X}"


def store(payload):
    """Store a callback for the batch applier, as a deferred request does."""
    return callback_store(
        method="POST", headers={}, body=json.dumps(payload).encode(), signature="valid"
    )


def apply_at_once(payload) -> None:
    delivery_report_apply(
        event=CallbackEvent.objects.create(
            method="POST", raw_body=b"", signature="valid"
        ),
        report=parse_callback(payload),
    )


# --- report sequences, and the final state they lead to ------------------------


def fallback_sequence(reference):
    """What Telesign sends for a Viber timeout, SMS delivered, then duplicates."""
    viber_failed = ("viber", 3056, "V" + reference[1:], "2026-11-28 10:10:00.000")
    return [
        delivery(
            reference,
            code=3001,
            last="sms",
            at="2026-11-28 10:10:00:000",
            channels=[viber_failed, ("sms", 3001, None, "2026-11-28 10:10:00.000")],
        ),
        delivery(
            reference,
            code=3000,
            last="sms",
            at="2026-11-28 10:10:04:000",
            channels=[
                viber_failed,
                ("sms", 3000, "S" + reference[1:], "2026-11-28 10:10:04"),
            ],
        ),
    ]


def read_sequence(reference):
    viber = ("viber", 3000, "V" + reference[1:], "2026-11-28 10:00:02.000")
    read = ("viber", 3005, "V" + reference[1:], "2026-11-28 10:00:22.000")
    return [
        delivery(reference, code=3000, channels=[viber], at="2026-11-28 10:00:02:000"),
        delivery(reference, code=3005, channels=[read], at="2026-11-28 10:00:22:000"),
    ]


def final_state(recipient):
    recipient.refresh_from_db()
    attempts = sorted(
        # Reference ids differ per recipient; their channel letter is what counts.
        (a.channel, a.position, a.status_code, (a.reference_id or "-")[0], a.updated_on)
        for a in recipient.attempts.all()
    )
    return (
        recipient.outcome,
        recipient.status_code,
        recipient.last_channel,
        recipient.delivered_at,
        recipient.read_at,
        recipient.failure_reason,
        tuple(attempts),
    )


def for_every_order_and_duplication(test):
    """Run `test(sequence, data)` for each callback sequence, with 40 drawn
    orders and duplications (see `in_order_and_shuffled`)."""
    return pytest.mark.parametrize("sequence", [fallback_sequence, read_sequence])(
        given(data=st.data())(
            hsettings(
                max_examples=40,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture],
            )(test)
        )
    )


def in_order_and_shuffled(sequence, data):
    """The final state of a recipient given `sequence` in Telesign's order, and
    a second recipient with the same reports shuffled and partly duplicated."""
    campaign = make_campaign()
    expected_recipient = make_recipient(campaign=campaign, reference_id=new_reference())
    for payload in sequence(expected_recipient.reference_id):
        apply_at_once(payload)
    recipient = make_recipient(campaign=campaign, reference_id=new_reference())
    payloads = sequence(recipient.reference_id)
    shuffled = data.draw(
        st.permutations(
            payloads + data.draw(st.lists(st.sampled_from(payloads), max_size=4))
        )
    )
    return final_state(expected_recipient), recipient, shuffled
