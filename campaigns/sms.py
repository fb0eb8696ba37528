"""SMS text: personalisation and how many segments a carrier bills."""

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# GSM 03.38 basic character set and its extension table (extension characters
# take two septets: an escape plus the character).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsSegments:
    """How the network counts a text. `units` are what a segment holds: septets
    for GSM-7 (an extension character takes two), UTF-16 code units for UCS-2
    (a character beyond the Basic Multilingual Plane, such as most emoji,
    takes two). `characters` are the characters a person sees typed."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int
    per_segment: int
    characters: int
    counted_twice: tuple[str, ...] = ()  # distinct characters taking two units
    not_gsm: str = ""  # the first character that forces UCS-2


def _is_gsm7(ch: str) -> bool:
    return ch in GSM7_BASIC or ch in GSM7_EXTENDED


def sms_segments(text: str) -> SmsSegments:
    """Count units and segments the way handsets and carriers do.

    Mirrored by campaigns/static/campaigns/sms_counter.js (the live counter);
    tests/test_sms_counter_js.py keeps the two in agreement.
    """
    not_gsm = next((ch for ch in text if not _is_gsm7(ch)), "")
    if not not_gsm:
        doubled = [ch for ch in text if ch in GSM7_EXTENDED]
        units = len(text) + len(doubled)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        doubled = [ch for ch in text if ord(ch) > 0xFFFF]
        units = len(text) + len(doubled)
        single, multi, encoding = 70, 67, "UCS-2"
    segments, per_segment = (1 if units else 0, single)
    if units > single:
        segments, per_segment = -(-units // multi), multi
    return SmsSegments(
        encoding,
        units,
        segments,
        per_segment,
        characters=len(text),
        counted_twice=tuple(dict.fromkeys(doubled)),
        not_gsm=not_gsm,
    )


# At most this many of the characters counted twice are named.
COUNTED_TWICE_NAMED = 5


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def sms_length_summary(text: str) -> str:
    """The SMS length as the editor, its read-only row and the preview say it:
    characters typed, segments billed, and the encoding with its units, e.g.
    "12 characters · 1 segment · GSM-7, 14 of 160 (“{”, “}” count as two)".

    The live counter (sms_counter.js) builds the same sentence; a test runs
    both on a table of texts.
    """
    count = sms_segments(text)
    parts = [_plural(count.characters, "character")]
    parts.append(_plural(count.segments, "segment"))
    if not count.units:
        return " · ".join(parts)
    encoding = count.encoding
    if count.not_gsm:
        encoding += f" because of “{count.not_gsm}”"
    detail = f"{encoding}, {count.units} of {count.segments * count.per_segment}"
    notes = []
    if count.segments > 1:
        notes.append(f"{count.per_segment} per segment once split")
    if count.counted_twice:
        named = count.counted_twice[:COUNTED_TWICE_NAMED]
        verb = "counts" if len(count.counted_twice) == 1 else "count"
        more = " …" if len(count.counted_twice) > len(named) else ""
        quoted = ", ".join(f"“{ch}”" for ch in named)
        notes.append(f"{quoted}{more} {verb} as two")
    if notes:
        detail += f" ({'; '.join(notes)})"
    parts.append(detail)
    if TOKEN.search(text):
        parts.append("before personalisation")
    return " · ".join(parts)


# The fields every contact has, whatever its attributes.
BUILT_IN_FIELDS = ("name", "first_name", "last_name", "phone")

# A template's tokens: `{{` and `}}` (a literal brace), `{field}` and
# `{field|fallback}` (the fallback is used when the contact's value is missing
# or blank). Any other brace is literal text.
TOKEN = re.compile(
    r"\{\{|\}\}|\{(?P<field>[A-Za-z_][A-Za-z0-9_]*)(?:\|(?P<fallback>[^{}]*))?\}"
)
# A `{` that starts like a placeholder but is not one (`{first_name`,
# `{first name}`, `{a|{b}}`): refused rather than sent as written.
BROKEN_PLACEHOLDER = re.compile(r"\{[A-Za-z_][^{}\n]{0,30}\}?")
# `{{field}}`: the text "{field}", most likely meant as a placeholder.
DOUBLE_BRACED = re.compile(r"(?<!\{)\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}(?!\})")


@dataclass(frozen=True)
class Placeholder:
    field: str
    fallback: str | None  # None: no fallback given (`{field}`)


def template_parts(text: str) -> list[str | Placeholder]:
    """`text` as literal strings (escapes undone) and placeholders, in order."""
    parts: list[str | Placeholder] = []
    position = 0
    for match in TOKEN.finditer(text):
        parts.append(text[position : match.start()])
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
        else:
            parts.append(Placeholder(match["field"], match["fallback"]))
        position = match.end()
    parts.append(text[position:])
    return [part for part in parts if part != ""]


def template_fields(text: str) -> list[str]:
    """The placeholder names used in `text`, in order of first use."""
    return list(
        dict.fromkeys(
            part.field for part in template_parts(text) if isinstance(part, Placeholder)
        )
    )


def template_escape(text: str) -> str:
    """`text` as a template that personalises to exactly `text`."""
    return text.replace("{", "{{").replace("}", "}}")


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


def contact_fields_changed(before, after) -> set[str]:
    """The fields whose values differ between two versions of a contact (a
    missing field and a blank one personalise alike, so they do not differ)."""
    old, new = contact_fields(before), contact_fields(after)
    return {
        key for key in old.keys() | new.keys() if old.get(key, "") != new.get(key, "")
    }


def personalise(text: str, contact) -> str:
    """Fill the placeholders of `text` for `contact` (None: a number outside
    the contacts, whose fields are all blank). A missing or blank value takes
    the placeholder's fallback, else stays empty; never raises."""
    fields = contact_fields(contact) if contact is not None else {}
    filled = []
    for part in template_parts(text):
        if isinstance(part, str):
            filled.append(part)
            continue
        value = fields.get(part.field, "")
        if not value.strip() and part.fallback is not None:
            value = part.fallback
        filled.append(value)
    return "".join(filled)


def is_blank(text: str | None) -> bool:
    """True for a text that must never be sent as an SMS: empty or whitespace."""
    return not (text or "").strip()


def template_problems(
    text: str,
    *,
    known: Callable[[str], bool],
    available: Callable[[], Sequence[str]],
) -> list[str]:
    """What is wrong with a template, in words for a marketer (or nothing).

    `known(field)` says whether the contacts the text is for have that field;
    `available()` lists the fields they have (asked only when one is
    unknown). A field nobody has would be sent empty; `{{field}}` sends the
    text "{field}" as written; a brace that starts like a placeholder without
    being one would be sent as written too.
    """
    problems = []
    unknown = [field for field in template_fields(text) if not known(field)]
    if unknown:
        fields = list(available())
        names = ", ".join(f"{{{field}}}" for field in unknown)
        problem = (
            f"The SMS text uses {names}, which no contact of the chosen audiences "
            f"has: recipients would get {'it' if len(unknown) == 1 else 'them'} "
            f"empty. Fields they have: {', '.join(fields)}."
        )
        guesses = [
            f"{{{guess[0]}}} for {{{field}}}"
            for field in unknown
            if (guess := difflib.get_close_matches(field, fields, n=1, cutoff=0.75))
        ]
        if guesses:
            problem += f" Did you mean {', '.join(guesses)}?"
        problems.append(problem)
    escaped = [
        name for name in dict.fromkeys(DOUBLE_BRACED.findall(text)) if known(name)
    ]
    if escaped:
        problems.append(
            "Double braces are sent as written: "
            + ", ".join(f"{{{{{name}}}}} sends “{{{name}}}”" for name in escaped)
            + ". To personalise, write "
            + ", ".join(f"{{{name}}}" for name in escaped)
            + "."
        )
    broken = [
        match.group(0)
        for part in template_parts(text)
        if isinstance(part, str)
        for match in BROKEN_PLACEHOLDER.finditer(part)
    ]
    if broken:
        problems.append(
            "Not a placeholder: "
            + ", ".join(f"“{piece}”" for piece in broken)
            + ". Write {field}, or {field|fallback} for a value some contacts "
            "lack, and {{ or }} for a brace meant as text."
        )
    return problems
