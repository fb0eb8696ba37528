"""Campaigns: the editor, its actions and its pages before and while sending.

The change form shows what a launch would do (targeted recipients, cost,
approval); the campaign's own pages preview the message for a contact,
test-send it, launch it and pause, resume, cancel or approve it. Its report,
export and comparison pages and the list's rate columns are in `reports`.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join

from .. import selectors, services
from ..forms import CampaignForm, TestSendForm
from ..models import Campaign, Recipient
from ..telesign import SendStatus, telesign_uses_sandbox
from .base import AdminPage, CustomPagesMixin
from .building import BUILDING_READONLY, CampaignBuildingAdminMixin, live
from .campaign_texts import (
    channels_description,
    progress_counts,
    quiet_hours_text,
    starts_text,
    waiting_text,
)
from .preferences import TimeZonePageMixin
from .reports import REPORT_PAGES, CampaignReportsAdminMixin
from .workspace import image_thumbnail

# Test sends listed on the campaign page (the latest first).
TEST_SENDS_SHOWN = 50


@admin.register(Campaign)
class CampaignAdmin(
    CampaignBuildingAdminMixin,
    TimeZonePageMixin,
    CampaignReportsAdminMixin,
    CustomPagesMixin,
    admin.ModelAdmin,
):
    form = CampaignForm
    # Beside the navigation and the filters at 1366 px: the report link next
    # to the name, the state and its date in one column, short headers.
    list_display = [
        "name",
        "report_link",
        "status_column",
        "progress_column",
        "results_column",
    ]
    list_filter = ["status", "message_type", "sms_fallback_enabled"]
    search_fields = ["name"]
    filter_horizontal = ["audiences"]
    list_select_related = ["image", "report"]
    autocomplete_fields = []

    class Media:
        js = [
            "campaigns/sms_counter.js",
            "campaigns/confirm.js",
            "campaigns/campaign_steps.js",
            "campaigns/campaign_live.js",
        ]
        css = {"all": ["campaigns/admin.css", "campaigns/campaign_builder.css"]}

    def get_readonly_fields(self, request, obj=None):
        readonly = [
            "status",
            "status_reason",
            "send_progress",
            *BUILDING_READONLY,
            "approval",
            "test_sends",
            "audit_trail_link",
            "created_by",
            "created_at",
            "updated_at",
            "started_at",
            "completed_at",
        ]
        if obj is not None and obj.is_content_locked:
            readonly += list(Campaign.CONTENT_FIELDS)
        return readonly

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # After the audiences are saved, so an audience change counts as an edit.
        super().save_related(request, form, formsets, change)
        services.campaign_saved(
            campaign=form.instance,
            actor=services.actor_from_request(request),
            created=not change,
            changed=list(form.changed_data),
        )

    @admin.display(description="Image")
    def image_thumbnail(self, obj):
        return image_thumbnail(obj.image)

    @admin.display(description="Channels")
    def channels_summary(self, obj):
        return live("channels", f"{obj.channels.label} — {channels_description(obj)}")

    @admin.display(description="Progress")
    def send_progress(self, obj):
        if not obj.pk or obj.status == Campaign.Status.DRAFT:
            return "Not launched yet."
        if obj.status == Campaign.Status.SCHEDULED and obj.scheduled_at:
            return f"{starts_text(obj.scheduled_at)}."
        progress = selectors.campaign_send_progress(campaign=obj)
        waiting = selectors.campaign_recipients_waiting_for_window(
            campaign=obj, now=timezone.now()
        )
        counts = (
            format_html_join(
                ", ",
                "{}: {}",
                (
                    (label, number_format(count, force_grouping=True))
                    for label, count in progress_counts(progress, waiting=waiting)
                ),
            )
            or "No recipients."
        )
        if not waiting:
            return counts
        return format_html(
            '{}<br><span id="waiting-for-window">{}</span>',
            counts,
            waiting_text(waiting=waiting, campaign=obj),
        )

    def has_launch_permission(self, request, obj=None):
        return request.user.has_perm("campaigns.launch_campaign")

    def has_approve_permission(self, request, obj=None):
        return request.user.has_perm("campaigns.approve_campaign")

    @admin.display(description="Approval")
    def approval(self, obj):
        if obj.approved_at:
            return f"Approved by {obj.approved_by} on {obj.approved_at:%Y-%m-%d %H:%M}."
        if settings.FOUR_EYES_LAUNCH:
            return (
                "Not approved yet: someone other than its author, with the Approver "
                "role, must approve it before it can start."
            )
        return "Not approved (approval is optional in this workspace)."

    @admin.display(description="Test sends")
    def test_sends(self, obj):
        """What was tried before approval: when, by whom, to which number,
        with which text, and what Telesign made of it."""
        if not obj.pk:
            return "—"
        tests = list(selectors.campaign_test_sends(campaign=obj)[:TEST_SENDS_SHOWN])
        if not tests:
            return "None yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{timezone.localtime(test.at):%Y-%m-%d %H:%M}",
                    test.username or "—",
                    test.phone,
                    test.sms_text or ("Viber image only" if test.image_id else "—"),
                    test.recipient.get_outcome_display()
                    if test.recipient.outcome != Recipient.Outcome.PENDING
                    else test.recipient.get_send_status_display(),
                )
                for test in tests
            ),
        )
        return format_html(
            '<table class="test-sends"><thead><tr><th>When</th><th>By</th>'
            "<th>Number</th><th>SMS text</th><th>Result</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Audit trail")
    def audit_trail_link(self, obj):
        if not obj.pk:
            return "—"
        url = reverse("admin:campaigns_auditentry_changelist")
        return format_html(
            '<a href="{}?campaign__id__exact={}">Who did what to this campaign</a>',
            url,
            obj.pk,
        )

    @admin.action(description="Approve selected campaigns", permissions=["approve"])
    def approve_selected(self, request, queryset):
        self._run_for_each(request, queryset, services.campaign_approve, "approved")

    @admin.action(description="Duplicate selected campaigns", permissions=["add"])
    def duplicate_selected(self, request, queryset):
        actor = services.actor_from_request(request)
        copies = [
            services.campaign_duplicate(campaign=campaign, actor=actor)
            for campaign in queryset
        ]
        if len(copies) == 1:
            url = self._change_url(copies[0])
            message = format_html('Created draft <a href="{}">{}</a>.', url, copies[0])
        else:
            message = f"Created {len(copies)} draft copies."
        self.message_user(request, message, messages.SUCCESS)

    actions = [
        "duplicate_selected",
        "launch_selected",
        "pause_selected",
        "resume_selected",
        "cancel_selected",
        "approve_selected",
        "compare_selected",
        "resend_failed",
        "resend_failed_pending_by_sms",
    ]

    def _run_for_each(self, request, queryset, service, done: str):
        succeeded = 0
        for campaign in queryset:
            try:
                service(campaign=campaign, actor=services.actor_from_request(request))
                succeeded += 1
            except services.DomainError as exc:
                self.message_user(request, f"{campaign}: {exc}", messages.ERROR)
        if succeeded:
            self.message_user(
                request, f"{succeeded} campaign(s) {done}.", messages.SUCCESS
            )

    @admin.action(description="Launch selected campaigns", permissions=["launch"])
    def launch_selected(self, request, queryset):
        self._run_for_each(request, queryset, services.campaign_launch, "launched")

    @admin.action(description="Pause selected campaigns", permissions=["launch"])
    def pause_selected(self, request, queryset):
        self._run_for_each(request, queryset, services.campaign_pause, "paused")

    @admin.action(description="Resume selected campaigns", permissions=["launch"])
    def resume_selected(self, request, queryset):
        self._run_for_each(request, queryset, services.campaign_resume, "resumed")

    @admin.action(description="Cancel selected campaigns", permissions=["launch"])
    def cancel_selected(self, request, queryset):
        self._run_for_each(request, queryset, services.campaign_cancel, "cancelled")

    custom_pages = (
        AdminPage(
            "<int:campaign_id>/preview/", "preview_view", "campaigns_campaign_preview"
        ),
        AdminPage(
            "<int:campaign_id>/launch/", "launch_view", "campaigns_campaign_launch"
        ),
        AdminPage("live/", "live_view", "campaigns_campaign_live"),
        AdminPage("time-zone/", "time_zone_view", "campaigns_campaign_time_zone"),
        AdminPage(
            "<int:campaign_id>/control/<str:action>/",
            "control_view",
            "campaigns_campaign_control",
        ),
        AdminPage(
            "<int:campaign_id>/test-send/",
            "test_send_view",
            "campaigns_campaign_test_send",
        ),
        *REPORT_PAGES,
    )

    def page_queryset(self):
        # Every page of a campaign shows its image.
        return Campaign.objects.select_related("image")

    def _change_url(self, campaign) -> str:
        return reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_launch": self.has_launch_permission(request),
            "can_report": self.has_report_permission(request),
            "can_approve": self.has_approve_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def launch_view(self, request, campaign_id):
        campaign = self.page_object(
            campaign_id, allowed=self.has_launch_permission(request)
        )
        if request.method == "POST":
            try:
                result = services.campaign_launch(
                    campaign=campaign, actor=services.actor_from_request(request)
                )
            except services.DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request, message_for_launch(campaign, result), messages.SUCCESS
                )
            return HttpResponseRedirect(self._change_url(campaign))
        return self.page_response(
            request,
            "admin/campaigns/campaign/launch.html",
            title=f"Launch “{campaign}”?",
            original=campaign,
            campaign=campaign,
            estimate=selectors.campaign_launch_estimate(campaign=campaign),
            problems=services.campaign_launch_problems(campaign=campaign),
            channels_description=channels_description(campaign),
            quiet_hours=quiet_hours_text(campaign),
            starts=starts_text(campaign.scheduled_at) if campaign.scheduled_at else "",
            uses_sandbox=telesign_uses_sandbox(),
        )

    CONTROL_ACTIONS = {
        "pause": (services.campaign_pause, "paused"),
        "resume": (services.campaign_resume, "resumed"),
        "cancel": (services.campaign_cancel, "cancelled"),
        "approve": (services.campaign_approve, "approved"),
    }

    def control_view(self, request, campaign_id, action):
        campaign = self.page_object(
            campaign_id,
            allowed=self.has_approve_permission(request)
            if action == "approve"
            else self.has_launch_permission(request),
        )
        if request.method != "POST" or action not in self.CONTROL_ACTIONS:
            return HttpResponseRedirect(self._change_url(campaign))
        service, done = self.CONTROL_ACTIONS[action]
        try:
            service(campaign=campaign, actor=services.actor_from_request(request))
        except services.DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"“{campaign}” {done}.", messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(campaign))

    def test_send_view(self, request, campaign_id):
        campaign = self.page_object(
            campaign_id, allowed=self.has_launch_permission(request)
        )
        form = TestSendForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                outcomes = services.campaign_test_send(
                    campaign=campaign,
                    phones=form.cleaned_data["phones"],
                    actor=services.actor_from_request(request),
                )
            except services.DomainError as exc:
                form.add_error("phones", str(exc))
            else:
                for outcome in outcomes:
                    self.message_user(request, *message_for_test_send(outcome))
                # Back to the review step, where the test numbers were typed.
                return HttpResponseRedirect(f"{self._change_url(campaign)}#review")
        return self.page_response(
            request,
            "admin/campaigns/campaign/test_send.html",
            title=f"Test send “{campaign}”",
            original=campaign,
            campaign=campaign,
            form=form,
        )


def message_for_launch(campaign: Campaign, result: services.LaunchResult) -> str:
    """What a launch did, for the message shown after it."""
    if result.scheduled:
        return (
            f"“{campaign}” is scheduled. {starts_text(result.campaign.scheduled_at)}."
        )
    to_message = result.recipients - result.suppressed
    return (
        f"“{campaign}” launched: {to_message} recipient(s) to "
        f"message, {result.suppressed} suppressed."
    )


def message_for_test_send(outcome: services.TestSendResult) -> tuple[str, int]:
    """Telesign's answer to one test send, as a message and its level."""
    result = outcome.result
    accepted = result.status == SendStatus.ACCEPTED
    level = messages.SUCCESS if accepted else messages.WARNING
    detail = (
        f"accepted by Telesign (reference {result.reference_id})"
        if accepted
        else f"{result.status}: {result.code or ''} {result.description}"
    )
    return f"Test send to {outcome.phone}: {detail}", level
