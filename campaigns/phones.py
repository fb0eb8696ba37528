"""Phone numbers as marketers type them, turned into E.164 or a clear error."""

import re
from decimal import Decimal, InvalidOperation

import phonenumbers

# Excel shows long numbers as e.g. 4.47911123456E+11 and saves them that way.
EXCEL_SCIENTIFIC = re.compile(r"^(?P<mantissa>\d+(?:[.,]\d+)?)[eE]\+?(?P<exp>\d+)$")
# Separators people put in numbers; removed before parsing.
PHONE_SEPARATORS = re.compile(r"[\s\-./()\u00a0]")


class PhoneNumberError(ValueError):
    """The value is not a phone number we can send to; the message says why."""


def _repair_excel_notation(value: str) -> str:
    """Undo Excel's scientific notation, but only when no digit was lost.

    `4.47911123456E+11` carries all twelve digits and is repaired. `3.8E+11`
    could stand for any of 380,000,000,000–389,999,999,999 once Excel rounded
    it, so guessing would message a stranger: it is refused.
    """
    match = EXCEL_SCIENTIFIC.match(value)
    if not match:
        return value
    mantissa = match["mantissa"].replace(",", ".")
    try:
        number = Decimal(mantissa) * (Decimal(10) ** int(match["exp"]))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits digits only
        raise PhoneNumberError(f"“{value}” is not a phone number.") from exc
    if number != number.to_integral_value():
        raise PhoneNumberError(
            f"“{value}” is in Excel's scientific notation and is not a whole number."
        )
    significant_digits = len(mantissa.replace(".", "").lstrip("0"))
    integer_digits = str(int(number))
    if significant_digits < len(integer_digits.rstrip("0")) or (
        significant_digits < len(integer_digits)
    ):
        raise PhoneNumberError(
            f"“{value}” was shortened by Excel's scientific notation, so the full "
            "number is lost. Format the phone column as Text in Excel and export "
            "the file again."
        )
    return integer_digits


def phone_normalize(raw: str, *, default_region: str) -> str:
    """Return the E.164 form of `raw`, or raise PhoneNumberError saying why not.

    Accepts spaces, dashes, dots and brackets, a leading `+` or `00`, numbers
    without a country code (read in `default_region`) and Excel's scientific
    notation when it kept every digit.
    """
    value = (raw or "").strip()
    if not value:
        raise PhoneNumberError("The phone number is empty.")
    value = _repair_excel_notation(value)
    compact = PHONE_SEPARATORS.sub("", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?\d+", compact):
        raise PhoneNumberError(
            f"“{raw}” contains characters that are not part of a phone number."
        )
    try:
        parsed = phonenumbers.parse(compact, default_region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(f"“{raw}” is not a phone number.") from exc
    if not phonenumbers.is_valid_number(parsed):
        region_hint = (
            ""
            if compact.startswith("+")
            else f" (read as a {default_region} number; add the country code)"
        )
        raise PhoneNumberError(f"“{raw}” is not a valid phone number{region_hint}.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_region(e164: str) -> str | None:
    """The ISO region a number belongs to, e.g. 'GB', or None if unknown."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return None
