"""Times in each person's own time zone.

A signed-in person sees and enters times in the zone they chose (their
UserPreference), else in the workspace's (settings.TIME_ZONE, from
WORKSPACE_TIME_ZONE). The choice is read at sign-in into the session, not
on every request.
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

from .selectors.preferences import user_time_zone

# Where the session keeps the person's zone ("" for the workspace's).
SESSION_TIME_ZONE = "campaigns_time_zone"


def session_time_zone_set(request, time_zone: str) -> None:
    """After the person changes their zone: the session follows at once."""
    request.session[SESSION_TIME_ZONE] = time_zone


@receiver(user_logged_in, dispatch_uid="campaigns_time_zone_at_sign_in")
def _time_zone_at_sign_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        session_time_zone_set(request, user_time_zone(user=user))


class UserTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = self._zone(request)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _zone(request) -> ZoneInfo | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if SESSION_TIME_ZONE not in request.session:  # signed in before it existed
            request.session[SESSION_TIME_ZONE] = user_time_zone(user=user)
        name = request.session[SESSION_TIME_ZONE]
        try:
            return ZoneInfo(name) if name else None
        except (ZoneInfoNotFoundError, ValueError):
            return None  # a zone the system no longer knows: the workspace's
