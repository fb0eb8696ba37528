"""A person's own choices in the admin."""

from ..models import UserPreference


def user_time_zone(*, user) -> str:
    """The time zone `user` chose, or "" for the workspace's."""
    return (
        UserPreference.objects.filter(user=user)
        .values_list("time_zone", flat=True)
        .first()
        or ""
    )
