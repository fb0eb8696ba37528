"""No input makes the callback endpoint fail: 5,000 generated requests."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import CallbackEvent, Recipient

from ..callback_helpers import URL, signed_headers
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
        assert CallbackEvent.objects.count() == events_before + 1  # kept raw


@pytest.fixture(autouse=True)
def some_recipients(db):
    """Real recipients the generated reports may hit."""
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
