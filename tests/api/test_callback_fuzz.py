"""No input makes the callback endpoint fail: 5,000 generated requests; and
hostile signed bodies (deep nesting, huge numbers, NUL and lone surrogates,
thousands of objects) are all stored raw, without holding up the next one."""

import json
from hashlib import sha256

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import CallbackEvent, Recipient
from campaigns.services.callbacks import callbacks_apply_pending

from ..callback_helpers import (
    URL,
    delivery,
    make_recipient,
    new_reference,
    post_callback,
    signed_headers,
)
from ..factories import make_campaign, make_contact

pytestmark = pytest.mark.django_db

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
codes = st.sampled_from([3000, 3001, 3005, 3055, 3056, 3031, 1500, 9999, -1])
channel_entry = st.dictionaries(
    st.sampled_from(["viber", "sms", "rcs", ""]),
    st.fixed_dictionaries(
        {},
        optional={
            "code": codes | json_scalars,
            "description": json_scalars,
            "reference_id": st.sampled_from(["A" * 32, "B" * 32, ""]) | json_scalars,
            "updated_on": st.sampled_from(
                ["2020-05-04 22:07:01:226", "2026-13-45 99:99:99", ""]
            )
            | json_scalars,
        },
    )
    | json_values,
    min_size=1,
    max_size=2,
)
callback_like = st.fixed_dictionaries(
    {},
    optional={
        "reference_id": st.sampled_from(["A" * 32, "C" * 32, "null"]) | json_scalars,
        "external_id": st.sampled_from(["c1-1", "null", ""]) | json_scalars,
        "status": st.fixed_dictionaries(
            {},
            optional={
                "code": codes | json_scalars,
                "description": json_scalars,
                "last_channel": st.sampled_from(["viber", "sms", "x"]) | json_scalars,
                "updated_on": json_scalars,
            },
        )
        | json_values,
        "channel_status": st.lists(channel_entry, max_size=3) | json_values,
        "phone_number": st.sampled_from(["447911123456", "+1", "abc"]) | json_scalars,
        "content": st.fixed_dictionaries(
            {}, optional={"text": st.sampled_from(["STOP", "hi"]) | json_scalars}
        )
        | json_values,
        "user_response": json_values,
    },
)
bodies = (
    callback_like.map(lambda d: json.dumps(d).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=300)
)
header_kinds = st.sampled_from(["signed", "none", "garbage", "x-ts"])
garbage_headers = st.dictionaries(
    st.sampled_from(["Authorization", "X-TS-Authorization"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    max_size=2,
)


@settings(
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=bodies,
    kind=header_kinds,
    garbage=garbage_headers,
    method=st.sampled_from(["post", "get"]),
)
def test_no_request_makes_the_endpoint_fail(client, body, kind, garbage, method):
    if kind == "signed":
        headers = signed_headers(body)
    elif kind == "x-ts":
        headers = {"X-TS-Authorization": signed_headers(body)["Authorization"]}
    elif kind == "garbage":
        headers = garbage
    else:
        headers = {}
    events_before = CallbackEvent.objects.count()
    response = client.generic(
        method.upper(),
        URL,
        data=body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code in (200, 202, 400, 401, 413)
    assert response["Content-Type"] == "application/json"
    if response.status_code in (401, 413):
        assert CallbackEvent.objects.count() == events_before  # nothing stored
    else:
        assert_stored_once(body, events_before)


def assert_stored_once(body: bytes, events_before: int) -> None:
    """The body is kept raw, in one event: a copy of a body stored before is
    only counted on it."""
    stored = CallbackEvent.objects.get(body_sha256=sha256(body).digest())
    assert bytes(stored.raw_body) == body
    assert CallbackEvent.objects.count() - events_before in (0, 1)


# --- hostile bodies, signed ------------------------------------------------------

SPECIAL = ["\x00", "\ud800", "\udfff", "\udbff", "a\x00b", "\ud83d", "\udc00x"]
hostile_text = st.text(max_size=12) | st.builds(
    "".join,
    st.lists(
        st.characters(categories=["Cs", "Cc"]) | st.sampled_from(SPECIAL),
        min_size=1,
        max_size=4,
    ),
)
huge_ints = st.integers(min_value=-(2**200), max_value=2**200) | st.sampled_from(
    [2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63, 2**64, 10**400]
)
hostile_scalars = (
    st.none() | st.booleans() | huge_ints | st.floats(allow_nan=False) | hostile_text
)
hostile_values = st.recursive(
    hostile_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)
hostile_ids = st.sampled_from(["A" * 32, "c1-0"]) | hostile_text | hostile_scalars
hostile_channel = st.dictionaries(
    st.sampled_from(["viber", "sms"]) | hostile_text,
    st.fixed_dictionaries(
        {},
        optional={
            "code": codes | huge_ints,
            "description": hostile_text,
            "reference_id": hostile_ids,
        },
    ),
    min_size=1,
    max_size=1,
)
hostile_callback = st.fixed_dictionaries(
    {},
    optional={
        "reference_id": hostile_ids,
        "external_id": hostile_ids,
        "status": st.fixed_dictionaries(
            {},
            optional={
                "code": codes | huge_ints,
                "description": hostile_text,
                "last_channel": hostile_text,
                "updated_on": hostile_text,
            },
        ),
        "channel_status": st.lists(hostile_channel, max_size=3),
        "phone_number": st.sampled_from(["447911123456"]) | hostile_text,
        "content": st.fixed_dictionaries(
            {},
            optional={
                "text": st.sampled_from(["STOP", "hi"]) | hostile_text,
                "original_reference_id": hostile_ids,
            },
        ),
        "user_response": hostile_values,
    },
)


def nested(depth: int, opener: str) -> bytes:
    """`depth` levels of arrays ("[") or objects ('{"a":'), within 64 KB."""
    closer = "]" if opener == "[" else "}"
    return (opener * depth + "1" + closer * depth).encode()


deep_bodies = st.builds(
    nested, st.integers(min_value=900, max_value=32_000), st.just("[")
) | st.builds(nested, st.integers(min_value=900, max_value=10_800), st.just('{"a":'))
many_objects = st.builds(
    lambda count, entry: json.dumps(
        {"reference_id": "A" * 32, "status": {"code": 3000}, "channel_status": [entry]}
        if count == 1
        else [entry] * count
    ).encode(),
    st.integers(min_value=1, max_value=10_000),
    st.sampled_from([{}, {"sms": {"code": 3000}}, {"a": [1]}]),
)
hostile_bodies = (
    hostile_callback.map(lambda d: json.dumps(d).encode())
    | hostile_values.map(lambda v: json.dumps(v).encode())
    | deep_bodies
    | many_objects
)


@pytest.mark.parametrize("apply", ["inline", "deferred"])
@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(body=hostile_bodies)
def test_every_signed_body_is_stored_raw_and_the_next_callback_still_applies(
    client, some_recipients, apply, body
):
    events_before = CallbackEvent.objects.count()
    with override_settings(CALLBACK_APPLY=apply):
        response = post_callback(client, body)
        if len(body) > django_settings.CALLBACK_MAX_BODY_BYTES:
            assert response.status_code == 413
            return
        assert response.status_code in (200, 202, 400), response.content
        assert response["Content-Type"] == "application/json"
        assert_stored_once(body, events_before)

        recipient = make_recipient(
            campaign=some_recipients, reference_id=new_reference()
        )
        answer = post_callback(client, delivery(recipient.reference_id, code=3000))
        assert answer.status_code == 200
        if apply == "deferred":
            callbacks_apply_pending()
    recipient.refresh_from_db()
    assert (recipient.status_code, recipient.outcome) == (
        3000,
        Recipient.Outcome.VIBER_DELIVERED,
    )


@pytest.fixture(autouse=True)
def some_recipients(db):
    """Real recipients the generated reports may hit; returns their campaign."""
    campaign = make_campaign()
    for index, reference in enumerate(["A" * 32, "B" * 32]):
        contact = make_contact(f"+44791112345{index}")
        Recipient.objects.create(
            campaign=campaign,
            contact=contact,
            phone=contact.phone,
            external_id=f"c1-{index}",
            reference_id=reference,
        )
    return campaign
