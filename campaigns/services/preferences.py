"""A person's own choices in the admin: the time zone they work in."""

from zoneinfo import available_timezones

from ..models import UserPreference
from .errors import DomainError


def user_time_zone_set(*, user, time_zone: str) -> str:
    """Keep `time_zone` (an IANA name, or "" for the workspace's) as the
    zone `user` enters and reads times in; returns it."""
    time_zone = time_zone.strip()
    if time_zone and time_zone not in available_timezones():
        raise DomainError(f"“{time_zone}” is not a time zone name.")
    UserPreference.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone}
    )
    return time_zone
