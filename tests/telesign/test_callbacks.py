"""Callback payload parsing: timestamps, and the one decode-and-parse step."""

import json
from datetime import UTC, datetime

import pytest

from campaigns.telesign.callbacks import (
    CallbackNotJSONError,
    CallbackShapeError,
    DeliveryReport,
    InboundReply,
    parse_callback_body,
    parse_provider_time,
)

from ..callback_helpers import SEED, SEED_REFERENCE, viber_reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-05-04 22:07:01:226", datetime(2020, 5, 4, 22, 7, 1, 226000, UTC)),
        ("2020-05-04 22:05:00.325", datetime(2020, 5, 4, 22, 5, 0, 325000, UTC)),
        ("2024-11-12T13:08:35.212526Z", datetime(2024, 11, 12, 13, 8, 35, 212526, UTC)),
        ("2020-08-27T19:28:49+02:00", datetime(2020, 8, 27, 17, 28, 49, tzinfo=UTC)),
        ("Thu, 23 Jun 2022 19:03:44 GMT", datetime(2022, 6, 23, 19, 3, 44, tzinfo=UTC)),
        ("2022-31-03T14:51:28.709526Z", None),  # month 31, from Telesign's docs
        ("yesterday", None),
        (None, None),
    ],
)
def test_timestamps_are_parsed_leniently_as_utc(text, expected):
    assert parse_provider_time(text) == expected


def test_a_delivery_report_body_is_parsed():
    report = parse_callback_body(SEED.read_bytes())
    assert isinstance(report, DeliveryReport)
    assert report.reference_id == SEED_REFERENCE
    assert [c.channel for c in report.channels] == ["viber", "sms"]


def test_a_reply_body_is_parsed():
    reply = parse_callback_body(
        json.dumps(viber_reply("+447911123456", "STOP")).encode()
    )
    assert isinstance(reply, InboundReply)
    assert (reply.phone, reply.text) == ("447911123456", "STOP")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Expecting property name enclosed in double quotes"),
        (b"", "Expecting value"),
        (b"\xff\xfe\xfa", "codec can't decode"),
    ],
)
def test_a_body_that_is_not_json_names_the_decoders_problem(body, message):
    with pytest.raises(CallbackNotJSONError, match=message):
        parse_callback_body(body)


def test_json_of_the_wrong_shape_names_each_field():
    with pytest.raises(CallbackShapeError) as raised:
        parse_callback_body(b'{"reference_id": "X", "status": {"code": "3000"}}')
    assert raised.value.errors == {"status.code": "is required and must be an integer"}
    with pytest.raises(CallbackShapeError) as raised:
        parse_callback_body(b"[1, 2]")
    assert raised.value.errors == {"body": "must be a JSON object"}


# --- what no column can hold ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"[" * 32_000 + b"]" * 32_000, "body"),
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "body"),
        (json.dumps({"reference_id": "R", "status": {"code": 2**31}}), "status.code"),
        (
            json.dumps({"reference_id": "R", "status": {"code": -(2**31) - 1}}),
            "status.code",
        ),
        (json.dumps({"reference_id": "R", "status": {"code": 10**400}}), "status.code"),
        (
            json.dumps({"reference_id": "A\x00B", "status": {"code": 3000}}),
            "reference_id",
        ),
        (b'{"reference_id": "\\ud800", "status": {"code": 3000}}', "reference_id"),
        (b'{"external_id": "x\\udfff", "status": {"code": 3000}}', "external_id"),
        (
            b'{"reference_id": "R", "status": {"code": 3000},'
            b' "channel_status": [{"sms": {"code": 2147483648}}]}',
            "channel_status[0].sms.code",
        ),
        (
            b'{"reference_id": "R", "status": {"code": 3000},'
            b' "channel_status": [{"sms": {"reference_id": "\\u0000"}}]}',
            "channel_status[0].sms.reference_id",
        ),
        (
            b'{"reference_id": "R", "status": {"code": 3000},'
            b' "channel_status": [{"\\ud800": {"code": 3000}}]}',
            "channel_status[0]",
        ),
    ],
    ids=[
        "32k nested arrays",
        "10k nested objects",
        "code 2^31",
        "code below -2^31",
        "code 10^400",
        "NUL in reference_id",
        "lone surrogate in reference_id",
        "lone surrogate in external_id",
        "channel code 2^31",
        "NUL in a channel's reference_id",
        "lone surrogate as channel name",
    ],
)
def test_what_no_column_can_hold_is_a_shape_error_naming_the_field(body, field):
    body = body if isinstance(body, bytes) else body.encode()
    with pytest.raises(CallbackShapeError) as raised:
        parse_callback_body(body)
    assert field in raised.value.errors
    # The reasons can be stored and shown: no NUL, no lone surrogate.
    str(raised.value).encode()
    assert "\x00" not in str(raised.value)


def test_the_largest_status_codes_a_column_holds_are_accepted():
    for code in (2**31 - 1, -(2**31)):
        body = json.dumps({"reference_id": "R", "status": {"code": code}}).encode()
        assert parse_callback_body(body).code == code


def test_a_field_named_by_the_payload_is_quoted_storably_in_the_error():
    body = (
        b'{"reference_id": "R", "status": {"code": 3000},'
        b' "channel_status": [{"v\\u0000": {"code": "x"}}, {"s\\ud800": 5}]}'
    )
    with pytest.raises(CallbackShapeError) as raised:
        parse_callback_body(body)
    str(raised.value).encode()
    assert "\x00" not in str(raised.value)


def test_free_text_keeps_what_a_column_can_hold():
    report = parse_callback_body(
        b'{"reference_id": "R", "status": {"code": 3000,'
        b' "description": "ok\\u0000\\ud800"},'
        b' "channel_status": [{"sms": {"code": 3000, "description": "\\udfff"}}]}'
    )
    assert report.description == "ok\ufffd\ufffd"
    assert report.channels[0].description == "\ufffd"
    reply = parse_callback_body(
        b'{"phone_number": "447911123456", "content": {"text": "STOP\\u0000",'
        b' "original_reference_id": "\\ud800"}}'
    )
    assert (reply.text, reply.original_reference_id) == ("STOP\ufffd", None)
