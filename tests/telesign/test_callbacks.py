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
