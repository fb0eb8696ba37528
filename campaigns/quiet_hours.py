"""Recipients' local time, from their phone number, for send windows."""

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone


@lru_cache(maxsize=65536)
def _zone_for_prefix(prefix: str) -> ZoneInfo:
    try:
        zones = phone_timezone.time_zones_for_number(phonenumbers.parse(prefix))
    except phonenumbers.NumberParseException:
        zones = ()
    for name in zones:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def phone_time_zone(e164: str) -> ZoneInfo:
    """The recipient's time zone from the number's country and area code; where
    a number maps to several zones, the first that libphonenumber lists."""
    return _zone_for_prefix(e164)


def send_window_opens_at(
    *, now: dt.datetime, zone: ZoneInfo, start: dt.time, end: dt.time
) -> dt.datetime | None:
    """None if `now` is inside the daily window [start, end) in `zone`;
    otherwise the next moment (aware) the window opens. Windows may cross
    midnight (e.g. 22:00–06:00)."""
    local = now.astimezone(zone)
    current = local.time()
    if start <= end:
        inside = start <= current < end
    else:
        inside = current >= start or current < end
    if inside:
        return None
    opens = dt.datetime.combine(local.date(), start, tzinfo=zone)
    if opens <= local:
        opens = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), start, tzinfo=zone
        )
    return opens.astimezone(dt.UTC)
