"""The audit trail: who did what to which campaign, and from where."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from ..models import AuditEntry
from .base import ReadOnlyAdminMixin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail: visible, never editable, not even by a superuser."""

    list_display = [
        "at",
        "username_or_system",
        "action",
        "campaign_link",
        "detail",
        "remote_addr",
    ]
    list_filter = ["action", "at"]
    search_fields = ["username", "campaign_name", "detail", "remote_addr"]
    date_hierarchy = "at"
    list_select_related = ["campaign"]
    show_full_result_count = False

    @admin.display(description="Who", ordering="username")
    def username_or_system(self, obj):
        return obj.username or "system"

    @admin.display(description="Campaign", ordering="campaign_name")
    def campaign_link(self, obj):
        if obj.campaign_id is None:
            return obj.campaign_name or "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:campaigns_campaign_change", args=[obj.campaign_id]),
            obj.campaign_name,
        )
