"""The admin site: a marketer's home instead of Django's model list, and the
models in two sections, the marketer's work and the delivery records.

Installed as the default admin site (`campaigns.apps.CampaignsAdminConfig`), so
every `@admin.register` lands here. It lives outside the `campaigns.admin`
package: Django builds the default site while that package registers its
ModelAdmins, so importing the package from here would register them on a
site about to be replaced. The home is a thin view: its figures come
from `selectors.home_overview`, its layout from admin/campaigns/home.html.
"""

from django.contrib import admin

# Where each model of the app is listed: the marketer's work, in the order
# it is done, then what the engine and Telesign wrote, for administrators.
WORKSPACE_MODELS = ("campaign", "audience", "contact", "imageasset")
RECORDS_MODELS = (
    "recipient",
    "inboundmessage",
    "channelattempt",
    "callbackevent",
    "callbackrejection",
    "auditentry",
)
WORKSPACE_SECTION = "Campaigns"
RECORDS_SECTION = "Delivery records (for administrators)"


class CampaignAdminSite(admin.AdminSite):
    site_header = "Viber campaigns"
    site_title = "Viber campaigns"
    index_title = "Campaign workspace"
    index_template = "admin/campaigns/home.html"

    def index(self, request, extra_context=None):
        from .admin.home import home_context  # see the module's docstring

        return super().index(
            request, {**home_context(request, self), **(extra_context or {})}
        )

    def get_app_list(self, request, app_label=None):
        """Django's list, with this app split into its two sections."""
        apps = super().get_app_list(request, app_label)
        return [section for app in apps for section in split_sections(app)]


def split_sections(app: dict) -> list[dict]:
    """The campaigns app as the workspace section and the records section
    (each only if it lists a model); any other app as it is."""
    if app["app_label"] != "campaigns":
        return [app]
    by_name = {model["object_name"].lower(): model for model in app["models"]}
    sections = []
    for name, models, label in (
        (WORKSPACE_SECTION, WORKSPACE_MODELS, "campaigns"),
        (RECORDS_SECTION, RECORDS_MODELS, "delivery-records"),
    ):
        listed = [by_name[model] for model in models if model in by_name]
        if listed:
            sections.append({**app, "name": name, "app_label": label, "models": listed})
    return sections
