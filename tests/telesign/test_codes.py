"""The status-code table: every code described, unknown codes never raise."""

import pytest

from campaigns.telesign.codes import STATUS_CODES, CodeKind, status_code_info


@pytest.mark.parametrize(
    ("code", "kind", "description"),
    [
        (3000, CodeKind.DELIVERED, "Delivered"),
        (3001, CodeKind.IN_PROGRESS, "Message in progress"),
        (3005, CodeKind.READ, "Message is read"),
        (3031, CodeKind.FAILED, "Permanent phone error"),
        (3056, CodeKind.CHANNEL_FAILED, STATUS_CODES[3056].description),
        (3113, CodeKind.VALIDATION, "Duplicate or malformed channels"),
        (3204, CodeKind.RETRYABLE, "Rate limit exceeded"),
        (3400, CodeKind.AUTH, "Not authorized"),
    ],
)
def test_known_codes_have_their_kind_and_description(code, kind, description):
    assert status_code_info(code) == STATUS_CODES[code]
    assert (status_code_info(code).kind, status_code_info(code).description) == (
        kind,
        description,
    )


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (3199, CodeKind.VALIDATION),
        (3399, CodeKind.VALIDATION),
        (3499, CodeKind.AUTH),
        (3999, CodeKind.UNKNOWN),
        (1500, CodeKind.UNKNOWN),
    ],
)
def test_unlisted_codes_fall_back_by_family(code, kind):
    info = status_code_info(code)
    assert (info.code, info.kind) == (code, kind)
    assert str(code) in info.description


def test_no_code_is_unknown_and_does_not_raise():
    assert status_code_info(None).kind == CodeKind.UNKNOWN
