"""Pathological phone input: every text is an E.164 number or a clear refusal.

Phone numbers reach `phone_normalize` from CSV cells, the contact form and the
test send form; whatever a cell holds, the marketer gets a row error or a form
error, never a server error.
"""

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from campaigns.phones import PhoneNumberError, phone_normalize

E164 = re.compile(r"\+[1-9][0-9]{1,14}")

# Text shaped like what spreadsheets and people produce: digits of any script,
# Excel's notation with any exponent, signs, separators and words.
PHONE_LIKE = st.one_of(
    st.text(),
    st.from_regex(r"[0-9]{1,30}[.,]?[0-9]{0,30}[eE][+-]?[0-9]{1,12}", fullmatch=True),
    st.text(alphabet=st.characters(categories=["Nd", "No"]), max_size=30),
    st.text(alphabet="+0123456789 ()-.,eE\u00a0\u0660\u0661\u0664²³", max_size=60),
)


@given(raw=PHONE_LIKE, region=st.sampled_from(["GB", "US", "DE", "BR"]))
@settings(max_examples=500, deadline=None)
@example(raw="1E+4400", region="GB")
@example(raw="1E+9999999", region="GB")
@example(raw="9" * 5000, region="GB")
@example(raw="NaN", region="GB")
@example(raw="Infinity", region="GB")
@example(raw="1E-5", region="GB")
@example(raw="²", region="GB")
@example(
    raw="\u0660\u0667\u0669\u0661\u0661\u0661\u0662\u0663\u0664\u0665\u0666",
    region="GB",
)
def test_any_text_is_an_e164_number_or_a_phone_number_error(raw, region):
    try:
        result = phone_normalize(raw, default_region=region)
    except PhoneNumberError as exc:
        assert str(exc)
    else:
        assert E164.fullmatch(result), result


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1E+4400", "more digits than any phone number"),
        ("1E+9999999", "more digits than any phone number"),
        ("4.4E+1000000000000", "more digits than any phone number"),
        ("9" * 5000, "too long to be a phone number"),
        ("NaN", "not part of a phone number"),
        ("Infinity", "not part of a phone number"),
        ("1E-5", "not part of a phone number"),
        ("²", "not part of a phone number"),
    ],
)
def test_pathological_numbers_are_refused_with_a_reason(raw, message):
    with pytest.raises(PhoneNumberError, match=message):
        phone_normalize(raw, default_region="GB")


def test_a_refusal_quotes_a_long_value_shortened():
    with pytest.raises(PhoneNumberError) as refused:
        phone_normalize("7" * 100_000, default_region="GB")
    assert len(str(refused.value)) < 200


def test_digits_of_other_scripts_become_the_same_e164_number():
    arabic_indic = "\u0660\u0667\u0669\u0661\u0661 \u0661\u0662\u0663\u0664\u0665\u0666"
    assert phone_normalize(arabic_indic, default_region="GB") == "+447911123456"
    assert phone_normalize("０７９１１ １２３４５６", default_region="GB") == (
        "+447911123456"
    )


def test_excel_notation_is_repaired_exactly_whatever_the_trailing_zeros():
    assert phone_normalize("4.4791112345600E+11", default_region="GB") == (
        "+447911123456"
    )
    assert phone_normalize("0.447911123456E+12", default_region="GB") == (
        "+447911123456"
    )
    with pytest.raises(PhoneNumberError, match="not a whole number"):
        phone_normalize("4.479111234561E+11", default_region="GB")
