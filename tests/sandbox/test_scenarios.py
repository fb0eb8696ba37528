"""Outcomes by last digit, and the callback bodies that report them."""

from datetime import UTC, datetime

import pytest

from campaigns.telesign.callbacks import parse_provider_time
from campaigns.telesign.codes import CodeKind, status_code_info
from sandbox.reports import ChannelReferences, delivery_report
from sandbox.scenarios import (
    READ_DELAY,
    SMS_DELIVERY_DELAY,
    VIBER_DELIVERY_DELAY,
    VIBER_FAILURE_DELAY,
    Step,
    sms_only_steps,
    viber_steps,
)

FALLBACK = 600


def codes(steps):
    return [(s.viber_code, s.sms_code) for s in steps]


@pytest.mark.parametrize(
    ("digit", "expected"),
    [
        (0, [(3000, None)]),
        (6, [(3000, None)]),
        (1, [(3000, None), (3005, None)]),
        (7, [(3000, None), (3005, None)]),
        (2, [(3055, 3001), (3055, 3000)]),
        (3, [(3056, 3001), (3056, 3000)]),
        (4, [(3055, 3001), (3055, 3031)]),
        (5, [(3005, None), (3000, None), (3000, None)]),
        (8, [(3056, 3001), (3056, 3033)]),
        (9, [(3000, None)]),
    ],
)
def test_each_last_digit_has_its_documented_outcome(digit, expected):
    steps = viber_steps(digit, has_sms=True, image_ok=True, fallback_time=FALLBACK)
    assert codes(steps) == expected


def test_viber_times_out_after_the_fallback_time_then_sms_follows():
    viber, sms = viber_steps(3, has_sms=True, image_ok=True, fallback_time=45)
    assert (viber.delay, sms.delay) == (45.0, 45.0 + SMS_DELIVERY_DELAY)


def test_timings_of_delivery_read_and_slow_delivery():
    delivered, read = viber_steps(1, has_sms=True, image_ok=True, fallback_time=60)
    assert (delivered.delay, read.delay) == (
        VIBER_DELIVERY_DELAY,
        VIBER_DELIVERY_DELAY + READ_DELAY,
    )
    (slow,) = viber_steps(9, has_sms=True, image_ok=True, fallback_time=60)
    assert slow.delay == 30
    *_, duplicate = viber_steps(5, has_sms=True, image_ok=True, fallback_time=60)
    assert duplicate.duplicate


def test_an_image_viber_cannot_show_fails_viber_with_3035():
    steps = viber_steps(0, has_sms=True, image_ok=False, fallback_time=FALLBACK)
    assert codes(steps) == [(3035, 3001), (3035, 3000)]
    assert steps[0].delay == VIBER_FAILURE_DELAY


def test_without_sms_a_failed_viber_leg_is_final():
    assert viber_steps(2, has_sms=False, image_ok=True, fallback_time=60) == [
        Step(VIBER_FAILURE_DELAY, 3055, None)
    ]


@pytest.mark.parametrize(("digit", "code"), [(0, 3000), (4, 3031), (8, 3033)])
def test_sms_only_follows_the_digits_sms_leg(digit, code):
    assert sms_only_steps(digit) == [Step(SMS_DELIVERY_DELAY, None, code)]


def test_every_code_the_sandbox_reports_is_in_the_apps_code_table():
    reported = {
        code
        for digit in range(10)
        for has_sms in (True, False)
        for image_ok in (True, False)
        for step in viber_steps(
            digit, has_sms=has_sms, image_ok=image_ok, fallback_time=60
        )
        + sms_only_steps(digit)
        for code in (step.viber_code, step.sms_code)
        if code is not None
    }
    assert reported == {3000, 3001, 3005, 3031, 3033, 3035, 3055, 3056}
    assert all(status_code_info(c).kind != CodeKind.UNKNOWN for c in reported)


def test_a_fallback_report_has_both_channels_and_telesigns_timestamp_forms():
    at = datetime(2020, 5, 4, 22, 7, 1, 226000, tzinfo=UTC)
    references = ChannelReferences()
    report = delivery_report(
        reference_id="R" * 32,
        external_id="c1-1",
        references=references,
        viber_code=3056,
        sms_code=3000,
        at=at,
    )
    assert report["status"] == {
        "code": 3000,
        "description": "Delivered",
        "last_channel": "sms",
        "updated_on": "2020-05-04 22:07:01:226",
    }
    viber, sms = (entry.popitem() for entry in report["channel_status"])
    assert viber == (
        "viber",
        {
            "code": 3056,
            "description": status_code_info(3056).description,
            "reference_id": references.viber,
            "updated_on": "2020-05-04 22:07:01.226",
        },
    )
    assert (sms[0], sms[1]["reference_id"]) == ("sms", references.sms)
    for text in (report["status"]["updated_on"], viber[1]["updated_on"]):
        assert parse_provider_time(text) == at


def test_an_sms_still_in_progress_has_no_reference_yet():
    report = delivery_report(
        reference_id="R" * 32,
        external_id=None,
        references=ChannelReferences(),
        viber_code=3055,
        sms_code=3001,
        at=datetime.now(UTC),
    )
    assert "reference_id" not in report["channel_status"][1]["sms"]
    assert (report["status"]["code"], report["status"]["last_channel"]) == (
        3001,
        "sms",
    )
