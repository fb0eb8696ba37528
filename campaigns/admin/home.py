"""The marketer's home: what is sending, what comes next, how the last
campaigns did, the audiences and images at hand, and where to start.

Figures come from `selectors.home_overview`; this module only decides what the
signed-in person may see and says the figures in words (rates, times).
"""

from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from .. import selectors
from ..charts import percent


def home_context(request, site) -> dict:
    """The home's context: each part only for someone allowed to see it."""
    user = request.user
    home = selectors.home_overview()
    can_see_campaigns = user.has_perm("campaigns.view_campaign")
    return {
        "title": "Campaign workspace",
        "home": home,
        "sending_rows": [sending_row(state) for state in home.sending]
        if can_see_campaigns
        else [],
        "result_rows": [result_row(result) for result in home.results]
        if can_see_campaigns
        else [],
        "show_campaigns": can_see_campaigns,
        "show_audiences": user.has_perm("campaigns.view_audience"),
        "show_images": user.has_perm("campaigns.view_imageasset"),
        "can_report": user.has_perm("campaigns.view_campaign_report"),
        "home_actions": home_actions(user),
        "records_sections": [
            app for app in site.get_app_list(request) if app["app_label"] != "campaigns"
        ],
    }


def home_actions(user) -> list[tuple[str, str]]:
    """The links a marketer starts from, for what they may do."""
    actions = [
        ("campaigns.add_campaign", "New campaign", "admin:campaigns_campaign_add"),
        ("campaigns.add_audience", "New audience", "admin:campaigns_audience_add"),
        ("campaigns.add_imageasset", "Upload image", "admin:campaigns_imageasset_add"),
        (
            "campaigns.view_campaign",
            "All campaigns",
            "admin:campaigns_campaign_changelist",
        ),
        ("campaigns.view_contact", "Contacts", "admin:campaigns_contact_changelist"),
    ]
    return [
        (label, reverse(url_name))
        for permission, label, url_name in actions
        if user.has_perm(permission)
    ]


def sending_row(state: selectors.SendingCampaign) -> dict:
    """A sending campaign in words: progress, rate and expected end."""
    return {
        "campaign": state.campaign,
        "sent": state.sent,
        "target": state.target,
        "percent": percent(state.share) if state.target else "—",
        "rate": rate_text(state.rate),
        "eta": eta_text(state.eta),
    }


def result_row(result: selectors.CampaignResult) -> dict:
    return {
        "campaign": result.campaign,
        "recipients": result.recipients,
        "delivered": percent(result.delivered),
        "viber_delivered": percent(result.viber_delivered),
        "fallback": percent(result.fallback),
        "read": percent(result.read),
    }


def rate_text(per_second: float) -> str:
    """Messages per second, or per minute when fewer than one a second."""
    if per_second <= 0:
        return "no sends in the last minute"
    if per_second < 1:
        return f"{per_second * 60:.0f} messages a minute"
    return f"{per_second:.1f} messages a second"


def eta_text(eta: datetime | None, *, now: datetime | None = None) -> str:
    """When the rest should be sent, as a local time and a duration."""
    if eta is None:
        return "—"
    now = now or timezone.now()
    minutes = max(0, round((eta - now).total_seconds() / 60))
    local = timezone.localtime(eta)
    if minutes < 1:
        left = "under a minute"
    elif minutes < 120:
        left = f"{minutes} min"
    else:
        left = f"{minutes / 60:.1f} h"
    day = "" if local.date() == timezone.localdate(now) else f"{local:%d %b} "
    return f"about {day}{local:%H:%M} ({left} left)"
