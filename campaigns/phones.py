"""Phone numbers as marketers type them, turned into E.164 or a clear error."""

import functools
import re

import phonenumbers

from .regions import REGION_NAMES

# Excel shows long numbers as e.g. 4.47911123456E+11 and saves them that way.
EXCEL_SCIENTIFIC = re.compile(
    r"^(?P<mantissa>[0-9]+(?:[.,][0-9]+)?)[eE]\+?(?P<exp>[0-9]+)$"
)
# Separators people put in numbers; removed before parsing.
PHONE_SEPARATORS = re.compile(r"[\s\-./()\u00a0]")
# No phone number is written with more characters than this, even with spaces,
# brackets and a `00` prefix; longer text is refused before any arithmetic.
PHONE_INPUT_MAX_LENGTH = 40
# E.164 numbers have at most 15 digits, so Excel's notation never needs a
# larger exponent than this for a phone number.
EXCEL_EXPONENT_MAX = 15


class PhoneNumberError(ValueError):
    """The value is not a phone number we can send to; the message says why."""


def _shown(raw: str) -> str:
    """`raw` as quoted in a message: long pasted text is cut, not repeated whole."""
    return raw if len(raw) <= PHONE_INPUT_MAX_LENGTH else raw[:20] + "…"


def _repair_excel_notation(value: str) -> str:
    """Undo Excel's scientific notation, but only when no digit was lost.

    `4.47911123456E+11` carries all twelve digits and is repaired. `3.8E+11`
    could stand for any of 380,000,000,000–389,999,999,999 once Excel rounded
    it, so guessing would message a stranger: it is refused. The digits are
    shifted as text, so no exponent can overflow or be rounded.
    """
    match = EXCEL_SCIENTIFIC.match(value)
    if not match:
        return value
    exponent = int(match["exp"])
    if exponent > EXCEL_EXPONENT_MAX:
        raise PhoneNumberError(
            f"“{_shown(value)}” is in Excel's scientific notation and has more "
            "digits than any phone number."
        )
    whole, _, fraction = match["mantissa"].replace(",", ".").partition(".")
    if fraction[exponent:].strip("0"):
        raise PhoneNumberError(
            f"“{value}” is in Excel's scientific notation and is not a whole number."
        )
    significant_digits = len((whole + fraction).lstrip("0"))
    integer_digits = (whole + fraction[:exponent].ljust(exponent, "0")).lstrip("0")
    if significant_digits < len(integer_digits):
        raise PhoneNumberError(
            f"“{value}” was shortened by Excel's scientific notation, so the full "
            "number is lost. Format the phone column as Text in Excel and export "
            "the file again."
        )
    return integer_digits or "0"


def phone_normalize(raw: str, *, default_region: str) -> str:
    """Return the E.164 form of `raw`, or raise PhoneNumberError saying why not.

    Accepts spaces, dashes, dots and brackets, a leading `+` or `00`, numbers
    without a country code (read in `default_region`), numbers with their
    country code but no `+` (`447911124001`) and Excel's scientific notation
    when it kept every digit.
    """
    value = (raw or "").strip()
    if not value:
        raise PhoneNumberError("The phone number is empty.")
    if len(value) > PHONE_INPUT_MAX_LENGTH:
        raise PhoneNumberError(
            f"“{_shown(value)}” is too long to be a phone number "
            f"(at most {PHONE_INPUT_MAX_LENGTH} characters)."
        )
    value = _repair_excel_notation(value)
    compact = PHONE_SEPARATORS.sub("", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?\d+", compact):
        raise PhoneNumberError(
            f"“{raw}” contains characters that are not part of a phone number."
        )
    parsed = _valid_reading(compact, default_region)
    if parsed is None:
        region_hint = (
            ""
            if compact.startswith("+")
            else f" as a {default_region} number or with a country code"
        )
        raise PhoneNumberError(f"“{raw}” is not a valid phone number{region_hint}.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _parsed_if_valid(text: str, region: str | None):
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    # Most numbers belong to the region they are read in: checking that one
    # first skips the search through every region sharing the country code
    # (GB, GG, IM and JE for +44), the bulk of a large import's time.
    if region and phonenumbers.is_valid_number_for_region(parsed, region):
        return parsed
    return parsed if phonenumbers.is_valid_number(parsed) else None


def _valid_reading(compact: str, default_region: str):
    """The number `compact` stands for: as written in `default_region`, or
    else, for digits without `+` (`447911124001`, as Excel keeps them), as an
    international number with its country code; None when neither is valid.

    The chosen country's reading comes first: it is what the marketer said
    the file holds, and `07911…` or a US `2028675309` never start a country
    code anyway.
    """
    national = _parsed_if_valid(compact, default_region)
    if national is not None or compact.startswith("+"):
        return national
    if compact.startswith("0"):
        return None
    return _parsed_if_valid("+" + compact, None)


def phone_search_term(term: str, *, default_region: str) -> str:
    """What to look for among E.164 numbers when someone searches `term`.

    A whole number in any spelling (`0044 7911 123456`, `447911123456`,
    `+44 7911 123456`) becomes its E.164 form; a fragment keeps its digits and
    `+` (`7911 123` finds every number containing 7911123); other text stays.
    """
    try:
        return phone_normalize(term, default_region=default_region)
    except PhoneNumberError:
        pass
    compact = "".join(ch for ch in term if ch.isdigit() or ch == "+")
    return compact if len(compact) >= 4 and compact != term else term


@functools.cache
def phone_region_choices() -> list[tuple[str, str]]:
    """Every country phone numbers are known for, as (code, "Name (+44)"),
    by name: the choices of an import's country."""
    choices = [
        (
            region,
            f"{REGION_NAMES.get(region, region)} "
            f"(+{phonenumbers.country_code_for_region(region)})",
        )
        for region in phonenumbers.SUPPORTED_REGIONS
    ]
    return sorted(choices, key=lambda choice: choice[1])


def phone_region(e164: str) -> str | None:
    """The ISO region a number belongs to, e.g. 'GB', or None if unknown."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return None
