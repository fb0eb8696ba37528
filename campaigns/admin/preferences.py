"""A person's own time zone: the page where they choose it.

Times are entered and shown in it (scheduled starts, test sends, the audit
trail); blank means the workspace's zone. campaigns.middleware applies it.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .. import selectors, services
from ..forms import TimeZoneForm
from ..middleware import session_time_zone_set


class TimeZonePageMixin:
    """The "Your time zone" page, open to everyone who may see campaigns."""

    def time_zone_view(self, request):
        self.page_permission_check(self.has_view_permission(request))
        back = request.GET.get("next") or request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = ""
        current = selectors.user_time_zone(user=request.user)
        form = TimeZoneForm(request.POST or None, initial={"time_zone": current})
        if request.method == "POST" and form.is_valid():
            chosen = services.user_time_zone_set(
                user=request.user, time_zone=form.cleaned_data["time_zone"]
            )
            session_time_zone_set(request, chosen)
            self.message_user(
                request,
                f"Times are now shown in {chosen or settings.WORKSPACE_TIME_ZONE}.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                back or reverse("admin:campaigns_campaign_changelist")
            )
        return self.page_response(
            request,
            "admin/campaigns/campaign/time_zone.html",
            title="Your time zone",
            form=form,
            back=back,
            workspace_time_zone=settings.WORKSPACE_TIME_ZONE,
        )
