import pytest

from campaigns.phones import (
    PhoneNumberError,
    phone_normalize,
    phone_region_choices,
    phone_search_term,
)
from campaigns.regions import REGION_NAMES
from campaigns.sms import personalise, sms_segments, template_fields


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+44 7911 123456", "+447911123456"),
        ("0044-7911-123456", "+447911123456"),
        ("07911 123456", "+447911123456"),  # national number, default region GB
        ("(07911) 123.456", "+447911123456"),
        ("4.47911123456E+11", "+447911123456"),  # Excel kept every digit
        ("4,47911123456E+11", "+447911123456"),  # ... with a decimal comma
        ("+1 555-867-5309".replace("555", "202"), "+12028675309"),
    ],
)
def test_phone_normalize_accepts_what_spreadsheets_contain(raw, expected):
    assert phone_normalize(raw, default_region="GB") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("3.8E+11", "shortened by Excel"),
        ("call me", "characters that are not part of a phone number"),
        ("+44 12", "not a valid phone number"),
        ("12345", "as a GB number or with a country code"),
    ],
)
def test_phone_normalize_explains_each_rejection(raw, message):
    with pytest.raises(PhoneNumberError, match=message):
        phone_normalize(raw, default_region="GB")


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("447911124001", "US", "+447911124001"),  # the country code, no +
        ("4.47911123456E+11", "US", "+447911123456"),  # ... as Excel shows it
        ("380 67 123 4567", "DE", "+380671234567"),
        ("2028675309", "US", "+12028675309"),  # the chosen country first
        ("07911 123456", "GB", "+447911123456"),
    ],
)
def test_a_number_is_read_in_the_chosen_country_or_with_its_country_code(
    raw, region, expected
):
    assert phone_normalize(raw, default_region=region) == expected


def test_a_national_number_of_another_country_is_still_refused():
    with pytest.raises(PhoneNumberError, match="as a US number or with a country"):
        phone_normalize("07911 123456", default_region="US")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("0044 7911 123456", "+447911123456"),
        ("+44 7911 123456", "+447911123456"),
        ("447911123456", "+447911123456"),
        ("7911 123", "7911123"),  # a fragment keeps its digits
        ("Ana", "Ana"),
    ],
)
def test_a_search_for_a_whole_number_looks_for_its_e164_form(term, expected):
    assert phone_search_term(term, default_region="US") == expected


def test_every_region_phonenumbers_knows_has_a_country_name():
    import phonenumbers

    assert set(REGION_NAMES) == phonenumbers.SUPPORTED_REGIONS
    names = dict(phone_region_choices())
    assert names["GB"] == "United Kingdom (+44)"
    assert names["UA"] == "Ukraine (+380)"


def test_gsm7_text_uses_160_characters_per_single_sms():
    result = sms_segments("a" * 160)
    assert (result.encoding, result.units, result.segments) == ("GSM-7", 160, 1)
    assert sms_segments("a" * 161).segments == 2  # 153 per part once split
    assert sms_segments("a" * 307).segments == 3


def test_gsm7_extension_characters_count_twice():
    counted = sms_segments("€{}")
    assert (counted.characters, counted.units) == (3, 6)
    assert counted.counted_twice == ("€", "{", "}")


def test_one_non_gsm_character_switches_to_ucs2():
    result = sms_segments("Привет" + "a" * 64)
    assert (result.encoding, result.units, result.segments) == ("UCS-2", 70, 1)
    assert sms_segments("😀" * 36).segments == 2  # an emoji is two UTF-16 units


class _Contact:
    name = "Ana Lima"
    phone = "+447911123456"
    attributes = {"city": "Porto", "code": 7}


def test_personalise_fills_name_parts_and_attributes_and_blanks_unknown():
    text = "Hi {first_name} {last_name} from {city}, code {code}{missing}!"
    assert personalise(text, _Contact()) == "Hi Ana Lima from Porto, code 7!"
    assert template_fields(text) == [
        "first_name",
        "last_name",
        "city",
        "code",
        "missing",
    ]
