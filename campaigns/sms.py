"""SMS text: personalisation and how many segments a carrier bills."""

import re
from dataclasses import dataclass

# GSM 03.38 basic character set and its extension table (extension characters
# take two septets: an escape plus the character).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class SmsSegments:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # units billed: septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int


def sms_segments(text: str) -> SmsSegments:
    """Count characters and segments the way handsets and carriers do."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SmsSegments(encoding, units, 1 if units else 0, single)
    return SmsSegments(encoding, units, -(-units // multi), multi)


def contact_fields(contact) -> dict[str, str]:
    """The values a template may use for one contact."""
    name = contact.name or ""
    fields = {
        "name": name,
        "first_name": name.split(" ")[0] if name else "",
        "last_name": name.split(" ", 1)[1] if " " in name else "",
        "phone": contact.phone,
    }
    for key, value in (contact.attributes or {}).items():
        fields[str(key)] = "" if value is None else str(value)
    return fields


def personalise(text: str, contact) -> str:
    """Fill `{field}` placeholders; unknown fields become empty, never raise."""
    fields = contact_fields(contact)
    return PLACEHOLDER.sub(lambda m: fields.get(m.group(1), ""), text)


def template_fields(text: str) -> list[str]:
    """The placeholder names used in `text`, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))
