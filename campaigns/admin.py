"""The marketer's workspace. ModelAdmins translate clicks into service calls."""

import json
from functools import cached_property

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from . import selectors, services
from .admin_reports import CampaignReportsAdminMixin
from .audience_csv import AudienceFileError, rejected_rows_csv
from .forms import (
    AudienceImportUploadForm,
    CampaignForm,
    ContactForm,
    ImageAssetForm,
    TestSendForm,
    ThrottledAdminAuthenticationForm,
)
from .models import (
    Audience,
    AudienceImport,
    AuditEntry,
    CallbackEvent,
    CallbackRejection,
    Campaign,
    ChannelAttempt,
    Contact,
    ImageAsset,
    InboundMessage,
    Recipient,
)
from .sms import personalise, sms_segments
from .telesign import telesign_uses_sandbox
from .telesign.codes import STATUS_CODES


class ReadOnlyAdminMixin:
    """Delivery records come from Telesign; nobody edits them by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def image_thumbnail(asset: ImageAsset | None, *, height: int = 48) -> str:
    if asset is None:
        return "—"
    return format_html(
        '<img src="{}" alt="{}" style="max-height:{}px;max-width:{}px;'
        'border-radius:4px;vertical-align:middle">',
        asset.public_url,
        asset.name,
        height,
        height * 2,
    )


# --- Image library ----------------------------------------------------------


@admin.register(ImageAsset)
class ImageAssetAdmin(admin.ModelAdmin):
    form = ImageAssetForm
    list_display = ["thumbnail", "name", "format", "dimensions", "size", "created_at"]
    list_display_links = ["thumbnail", "name"]
    search_fields = ["name"]
    list_filter = ["format"]
    readonly_fields = [
        "preview",
        "public_address",
        "format",
        "dimensions",
        "size",
        "checksum",
        "created_at",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "upload", "external_url"]
        return [
            "name",
            "preview",
            "public_address",
            "external_url",
            "format",
            "dimensions",
            "size",
            "checksum",
            "created_at",
        ]

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("upload")
        services.image_asset_save(
            asset=obj,
            data=upload.read() if upload else None,
            file_name=upload.name if upload else "",
        )

    @admin.display(description="Image")
    def thumbnail(self, obj):
        return image_thumbnail(obj)

    @admin.display(description="Preview")
    def preview(self, obj):
        return image_thumbnail(obj, height=240)

    @admin.display(description="Public address (fetched by Viber)")
    def public_address(self, obj):
        return format_html('<a href="{0}">{0}</a>', obj.public_url)

    @admin.display(description="Dimensions")
    def dimensions(self, obj):
        return f"{obj.width}×{obj.height}" if obj.width else "—"

    @admin.display(description="Size", ordering="bytes")
    def size(self, obj):
        if not obj.bytes:
            return "—"
        return f"{obj.bytes / 1024:.0f} KB"


# --- Contacts -----------------------------------------------------------------


class OptedOutFilter(admin.SimpleListFilter):
    title = "opted out"
    parameter_name = "opted_out"

    def lookups(self, request, model_admin):
        return [("yes", "Opted out"), ("no", "Can be messaged")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(opted_out_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(opted_out_at__isnull=True)
        return queryset


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactForm
    list_display = ["phone", "name", "opted_out_at", "opt_out_source", "created_at"]
    search_fields = ["phone", "name"]
    list_filter = [OptedOutFilter, "opt_out_source", "audiences"]
    readonly_fields = ["opted_out_at", "opt_out_source", "created_at", "updated_at"]
    actions = ["opt_out", "opt_in"]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # Numbers are stored as E.164: let "+44 7911 123-456" find +447911123456.
        compact = "".join(ch for ch in search_term if ch.isdigit() or ch == "+")
        if compact and len(compact) >= 4 and compact != search_term:
            search_term = compact
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description="Opt out selected contacts", permissions=["change"])
    def opt_out(self, request, queryset):
        count = services.contacts_opt_out(contact_ids=queryset.values("id"))
        self.message_user(request, f"{count} contact(s) opted out.", messages.SUCCESS)

    @admin.action(description="Opt selected contacts back in", permissions=["change"])
    def opt_in(self, request, queryset):
        count = services.contacts_opt_in(contact_ids=queryset.values("id"))
        self.message_user(
            request, f"{count} contact(s) opted back in.", messages.SUCCESS
        )


# --- Audiences and CSV import -------------------------------------------------


class AudienceImportInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AudienceImport
    fields = [
        "file_name",
        "status",
        "rows_total",
        "rows_valid",
        "rows_rejected",
        "contacts_created",
        "members_added",
        "uploaded_by",
        "created_at",
    ]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "Import history"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("campaigns.view_audience")


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin):
    list_display = ["name", "contact_count", "opted_out_count", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["contacts_link", "created_at"]
    fields = ["name", "description", "contacts_link", "created_at"]
    inlines = [AudienceImportInline]

    def get_queryset(self, request):
        return selectors.audiences_with_counts()

    @admin.display(description="Contacts", ordering="contact_count")
    def contact_count(self, obj):
        return obj.contact_count

    @admin.display(description="Opted out", ordering="opted_out_count")
    def opted_out_count(self, obj):
        return obj.opted_out_count

    @admin.display(description="Contacts")
    def contacts_link(self, obj):
        if not obj.pk:
            return "Save the audience, then import contacts from a CSV file."
        url = reverse("admin:campaigns_contact_changelist")
        return format_html(
            '<a href="{}?audiences__id__exact={}">{} contact(s), {} opted out</a>',
            url,
            obj.pk,
            obj.contact_count,
            obj.opted_out_count,
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:audience_id>/import/",
                wrap(self.import_upload_view),
                name="campaigns_audience_import",
            ),
            path(
                "imports/<int:import_id>/",
                wrap(self.import_check_view),
                name="campaigns_audience_import_check",
            ),
            path(
                "imports/<int:import_id>/rejected.csv",
                wrap(self.import_rejected_csv_view),
                name="campaigns_audience_import_rejected",
            ),
            *super().get_urls(),
        ]

    def _check_import_permission(self, request):
        if not (
            request.user.has_perm("campaigns.change_audience")
            and request.user.has_perm("campaigns.add_contact")
        ):
            raise PermissionDenied

    def import_upload_view(self, request, audience_id):
        self._check_import_permission(request)
        audience = get_object_or_404(Audience, pk=audience_id)
        form = AudienceImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                audience_import, _ = services.audience_import_check(
                    audience=audience,
                    file_name=upload.name,
                    content=upload.read(),
                    user=request.user,
                )
            except AudienceFileError as exc:
                form.add_error("file", str(exc))
            else:
                return HttpResponseRedirect(
                    reverse(
                        "admin:campaigns_audience_import_check",
                        args=[audience_import.pk],
                    )
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Import contacts into “{audience}”",
            "opts": self.model._meta,
            "audience": audience,
            "form": form,
            "default_region": settings.DEFAULT_PHONE_REGION,
        }
        return TemplateResponse(
            request, "admin/campaigns/audience/import_upload.html", context
        )

    def import_check_view(self, request, import_id):
        self._check_import_permission(request)
        audience_import = get_object_or_404(
            AudienceImport.objects.select_related("audience"), pk=import_id
        )
        audience_url = reverse(
            "admin:campaigns_audience_change", args=[audience_import.audience_id]
        )
        if request.method == "POST":
            try:
                if "confirm" in request.POST:
                    done = services.audience_import_confirm(
                        audience_import=audience_import,
                        actor=services.actor_from_request(request),
                    )
                    self.message_user(
                        request,
                        f"Imported {done.rows_valid} row(s): {done.contacts_created} "
                        f"new contact(s), {done.members_added} added to "
                        f"“{done.audience}”.",
                        messages.SUCCESS,
                    )
                else:
                    services.audience_import_discard(audience_import=audience_import)
                    self.message_user(request, "Import discarded.", messages.INFO)
            except services.DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(audience_url)

        parsed = None
        if audience_import.status == AudienceImport.Status.CHECKED:
            parsed = services.audience_import_parse(audience_import=audience_import)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Check “{audience_import.file_name}” before importing",
            "opts": self.model._meta,
            "audience_import": audience_import,
            "audience_url": audience_url,
            "parsed": parsed,
            "preview_rows": parsed.rows[:10] if parsed else [],
            "rejected_rows": parsed.rejected[:500] if parsed else [],
            "duplicate_rows": parsed.duplicates[:500] if parsed else [],
        }
        return TemplateResponse(
            request, "admin/campaigns/audience/import_check.html", context
        )

    def import_rejected_csv_view(self, request, import_id):
        self._check_import_permission(request)
        audience_import = get_object_or_404(AudienceImport, pk=import_id)
        if audience_import.status != AudienceImport.Status.CHECKED:
            raise PermissionDenied("The file of this import is no longer kept.")
        parsed = services.audience_import_parse(audience_import=audience_import)
        response = HttpResponse(
            rejected_rows_csv(parsed), content_type="text/csv; charset=utf-8"
        )
        stem = audience_import.file_name.rsplit(".", 1)[0] or "audience"
        response["Content-Disposition"] = f'attachment; filename="{stem}-rejected.csv"'
        return response


# --- Campaigns ----------------------------------------------------------------


@admin.register(Campaign)
class CampaignAdmin(CampaignReportsAdminMixin, admin.ModelAdmin):
    form = CampaignForm
    list_display = [
        "name",
        "status",
        "image_thumbnail",
        "progress_column",
        "viber_rate_column",
        "fallback_rate_column",
        "completion_rate_column",
        "report_link",
        "scheduled_at",
        "created_at",
    ]
    list_filter = ["status", "message_type", "sms_fallback_enabled"]
    search_fields = ["name"]
    filter_horizontal = ["audiences"]
    list_select_related = ["image", "report"]
    autocomplete_fields = []
    fieldsets = [
        (None, {"fields": ["name", "status", "status_reason"]}),
        (
            "Viber message",
            {"fields": ["image", "image_preview", "viber_template", "message_type"]},
        ),
        (
            "SMS",
            {
                "fields": [
                    "sms_fallback_enabled",
                    "sms_only",
                    "fallback_time",
                    "sms_text",
                    "sms_length",
                ]
            },
        ),
        (
            "Audience",
            {"fields": ["audiences", "audience_summary", "estimated_cost"]},
        ),
        (
            "Sending",
            {
                "fields": [
                    "scheduled_at",
                    "max_send_rate",
                    "send_window_start",
                    "send_window_end",
                    "send_progress",
                ]
            },
        ),
        ("Approval", {"fields": ["approval"]}),
        (
            "History",
            {
                "classes": ["collapse"],
                "fields": [
                    "audit_trail_link",
                    "created_by",
                    "created_at",
                    "updated_at",
                    "started_at",
                    "completed_at",
                ],
            },
        ),
    ]

    class Media:
        js = ["campaigns/sms_counter.js"]
        css = {"all": ["campaigns/admin.css"]}

    def get_readonly_fields(self, request, obj=None):
        readonly = [
            "status",
            "status_reason",
            "send_progress",
            "image_preview",
            "sms_length",
            "audience_summary",
            "estimated_cost",
            "approval",
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

    @admin.display(description="Image preview")
    def image_preview(self, obj):
        if not obj.pk:
            return "Shown after saving."
        return image_thumbnail(obj.image, height=160)

    @admin.display(description="Length")
    def sms_length(self, obj):
        segments = sms_segments(obj.sms_text or "")
        return (
            f"{segments.characters} characters, {segments.segments} segment(s), "
            f"{segments.encoding} (before personalisation)"
        )

    @admin.display(description="Recipients targeted")
    def audience_summary(self, obj):
        if not obj.pk:
            return "Shown after saving."
        summary = selectors.campaign_audience_summary(campaign=obj)
        return (
            f"{summary['targeted']} recipient(s) would be messaged: "
            f"{summary['contacts']} contact(s) in the audiences, "
            f"{summary['opted_out']} opted out and excluded."
        )

    @admin.display(description="Progress")
    def send_progress(self, obj):
        if not obj.pk or obj.status == Campaign.Status.DRAFT:
            return "Not launched yet."
        progress = selectors.campaign_send_progress(campaign=obj)
        labels = dict(Recipient.SendStatus.choices)
        return (
            format_html_join(
                ", ",
                "{}: {}",
                ((labels[key], count) for key, count in progress.items() if count),
            )
            or "No recipients."
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
        return "Not approved (approval is optional: FOUR_EYES_LAUNCH is off)."

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

    actions = [
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

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:campaign_id>/preview/",
                wrap(self.preview_view),
                name="campaigns_campaign_preview",
            ),
            path(
                "<int:campaign_id>/launch/",
                wrap(self.launch_view),
                name="campaigns_campaign_launch",
            ),
            path(
                "<int:campaign_id>/control/<str:action>/",
                wrap(self.control_view),
                name="campaigns_campaign_control",
            ),
            path(
                "<int:campaign_id>/test-send/",
                wrap(self.test_send_view),
                name="campaigns_campaign_test_send",
            ),
            *self.report_urls(),
            *super().get_urls(),
        ]

    def _campaign_for_launching(self, request, campaign_id) -> Campaign:
        return self._permitted_campaign(
            campaign_id, allowed=self.has_launch_permission(request)
        )

    def _change_url(self, campaign) -> str:
        return reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    def launch_view(self, request, campaign_id):
        campaign = self._campaign_for_launching(request, campaign_id)
        if request.method == "POST":
            try:
                result = services.campaign_launch(
                    campaign=campaign, actor=services.actor_from_request(request)
                )
            except services.DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                if result.scheduled:
                    text = (
                        f"“{campaign}” is scheduled to start at "
                        f"{result.campaign.scheduled_at:%Y-%m-%d %H:%M %Z}."
                    )
                else:
                    to_message = result.recipients - result.suppressed
                    text = (
                        f"“{campaign}” launched: {to_message} recipient(s) to "
                        f"message, {result.suppressed} suppressed."
                    )
                self.message_user(request, text, messages.SUCCESS)
            return HttpResponseRedirect(self._change_url(campaign))
        summary = selectors.campaign_audience_summary(campaign=campaign)
        seconds = summary["targeted"] / campaign.max_send_rate
        context = {
            **self.admin_site.each_context(request),
            "title": f"Launch “{campaign}”?",
            "opts": self.model._meta,
            "original": campaign,
            "campaign": campaign,
            "summary": summary,
            "problems": services.campaign_launch_problems(campaign=campaign),
            "duration_minutes": max(1, round(seconds / 60)),
            "uses_sandbox": telesign_uses_sandbox(),
        }
        return TemplateResponse(
            request, "admin/campaigns/campaign/launch.html", context
        )

    CONTROL_ACTIONS = {
        "pause": (services.campaign_pause, "paused"),
        "resume": (services.campaign_resume, "resumed"),
        "cancel": (services.campaign_cancel, "cancelled"),
        "approve": (services.campaign_approve, "approved"),
    }

    def control_view(self, request, campaign_id, action):
        campaign = self._permitted_campaign(
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
        campaign = self._campaign_for_launching(request, campaign_id)
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
                    result = outcome.result
                    level = (
                        messages.SUCCESS
                        if result.status == "accepted"
                        else messages.WARNING
                    )
                    detail = (
                        f"accepted by Telesign (reference {result.reference_id})"
                        if result.status == "accepted"
                        else f"{result.status}: {result.code or ''} "
                        f"{result.description}"
                    )
                    self.message_user(
                        request, f"Test send to {outcome.phone}: {detail}", level
                    )
                return HttpResponseRedirect(self._change_url(campaign))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Test send “{campaign}”",
            "opts": self.model._meta,
            "original": campaign,
            "campaign": campaign,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/campaigns/campaign/test_send.html", context
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_launch": self.has_launch_permission(request),
            "can_report": self.has_report_permission(request),
            "can_approve": self.has_approve_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def preview_view(self, request, campaign_id):
        campaign = get_object_or_404(
            Campaign.objects.select_related("image"), pk=campaign_id
        )
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        contact_id = request.GET.get("contact")
        contact = selectors.campaign_preview_contact(
            campaign=campaign,
            contact_id=int(contact_id) if contact_id and contact_id.isdigit() else None,
        )
        sms_text = personalise(campaign.sms_text, contact) if contact else ""
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview of “{campaign}”",
            "opts": self.model._meta,
            "original": campaign,
            "campaign": campaign,
            "contact": contact,
            "sample_contacts": selectors.campaign_target_contacts(
                campaign=campaign
            ).order_by("id")[:20],
            "sms_text": sms_text,
            "sms_segments": sms_segments(sms_text),
        }
        return TemplateResponse(
            request, "admin/campaigns/campaign/preview.html", context
        )


# --- Delivery records (read-only) ---------------------------------------------


class ChannelAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ChannelAttempt
    fields = [
        "position",
        "channel",
        "status_code",
        "status_description",
        "reference_id",
        "updated_on",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False


class ReadFilter(admin.SimpleListFilter):
    title = "read on Viber"
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("yes", "Read"), ("no", "Not read")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(read_at__isnull=self.value() == "no")
        return queryset


class AttemptedFilter(admin.SimpleListFilter):
    title = "sent to Telesign"
    parameter_name = "attempted"
    SENT = Recipient.SENT_STATUSES

    def lookups(self, request, model_admin):
        return [("yes", "Sent"), ("no", "Not sent")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(send_status__in=self.SENT)
        if self.value() == "no":
            return queryset.exclude(send_status__in=self.SENT)
        return queryset


class StatusCodeFilter(admin.SimpleListFilter):
    """Telesign's codes as its table describes them. Listing the codes present
    instead would read every row of a table of millions; a code outside the
    table (the report links to those too) still filters."""

    title = "status code"
    parameter_name = "status_code__exact"

    def lookups(self, request, model_admin):
        return [
            (str(code), f"{code} {info.description}")
            for code, info in sorted(STATUS_CODES.items())
        ]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        try:
            return queryset.filter(status_code=int(self.value()))
        except ValueError:
            raise IncorrectLookupParameters(
                f"“{self.value()}” is not a status code."
            ) from None


class CappedCountPaginator(Paginator):
    """Counts no further than CAP rows: counting a 1,000,000-recipient
    campaign's list would cost more than showing it. Past the cap the pages
    stop there and the list says "more than"; the CSV export has them all."""

    CAP = 10_000

    @cached_property
    def count(self):
        return self.object_list[: self.CAP + 1].count()


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "phone",
        "campaign",
        "outcome",
        "send_status",
        "last_channel",
        "status_code",
        "status_description",
        "sent_at",
        "delivered_at",
        "read_at",
    ]
    list_filter = [
        "outcome",
        "send_status",
        "is_test",
        "last_channel",
        "suppression_reason",
        ReadFilter,
        AttemptedFilter,
        StatusCodeFilter,
        "campaign",
    ]
    search_fields = ["phone", "external_id", "reference_id"]
    list_select_related = ["campaign"]
    # A campaign's recipients in the order of its unique (campaign, contact)
    # index: a page of a 1,000,000-recipient campaign reads a page of rows.
    # (The model's ordering goes by the campaign's own ordering: a sort.)
    ordering = ["campaign_id", "contact_id"]
    paginator = CappedCountPaginator
    inlines = [ChannelAttemptInline]
    show_full_result_count = False
    readonly_fields = ["timeline", "callbacks_received"]
    actions = ["rebuild_from_callbacks"]

    def lookup_allowed(self, lookup, value, request=None):
        # The report links each failure reason and each period of its
        # deliveries chart to the recipients behind them.
        if lookup in ("failure_reason", "delivered_at__gte", "delivered_at__lt"):
            return True
        return super().lookup_allowed(lookup, value, request)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return ["timeline", *[f for f in fields if f != "timeline"]]

    @admin.display(description="Timeline")
    def timeline(self, obj):
        """Everything that happened to this message, oldest first, in UTC."""
        steps = selectors.recipient_timeline(recipient=obj)
        if not steps:
            return "Nothing yet."
        return format_html(
            '<ol class="recipient-timeline">{}</ol>',
            format_html_join(
                "",
                '<li><time datetime="{}">{}</time> {}{}</li>',
                (
                    (
                        step.at.isoformat(),
                        step.at.strftime("%Y-%m-%d %H:%M:%S"),
                        step.text,
                        format_html(' · <a href="{}">raw callback</a>', step.url)
                        if step.url
                        else "",
                    )
                    for step in steps
                ),
            ),
        )

    @admin.display(description="Callbacks that shaped it")
    def callbacks_received(self, obj):
        events = CallbackEvent.objects.filter(recipient=obj).order_by("received_at")
        if not events:
            return "None yet."
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">{} · {} · {} · {}</a>',
            (
                (
                    reverse("admin:campaigns_callbackevent_change", args=[e.pk]),
                    e.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.get_kind_display(),
                    e.status_code or "—",
                    e.get_processing_display(),
                )
                for e in events[:100]
            ),
        )

    def has_rebuild_permission(self, request):
        return request.user.has_perm("campaigns.change_callbackevent")

    @admin.action(
        description="Rebuild delivery state from stored callbacks",
        permissions=["rebuild"],
    )
    def rebuild_from_callbacks(self, request, queryset):
        for recipient in queryset:
            services.recipient_rebuild_from_events(recipient=recipient)
        self.message_user(request, f"Rebuilt {queryset.count()} recipient(s).")


@admin.register(ChannelAttempt)
class ChannelAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "recipient",
        "channel",
        "position",
        "status_code",
        "status_description",
        "updated_on",
    ]
    list_filter = ["channel", StatusCodeFilter, "recipient__campaign"]
    search_fields = ["reference_id", "recipient__phone"]
    ordering = ["-id"]  # newest first, by the primary key (no sort of a join)
    paginator = CappedCountPaginator

    def lookup_allowed(self, lookup, value, request=None):
        # The report's per-code counts leave test sends out; so do its links.
        if lookup == "recipient__is_test":
            return True
        return super().lookup_allowed(lookup, value, request)

    list_select_related = ["recipient__campaign"]
    show_full_result_count = False


@admin.register(CallbackEvent)
class CallbackEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "received_at",
        "kind",
        "processing",
        "signature",
        "status_code",
        "reference_id",
        "external_id",
        "recipient_link",
    ]
    list_filter = ["kind", "processing", "signature", "status_code"]
    search_fields = ["reference_id", "external_id"]
    show_full_result_count = False
    fields = [
        "received_at",
        "method",
        "kind",
        "processing",
        "error",
        "signature",
        "status_code",
        "reference_id",
        "external_id",
        "recipient_link",
        "headers",
        "pretty_body",
    ]
    readonly_fields = fields
    actions = ["reprocess"]

    @admin.display(description="Recipient")
    def recipient_link(self, obj):
        if not obj.recipient_id:
            return "—"
        url = reverse("admin:campaigns_recipient_change", args=[obj.recipient_id])
        return format_html('<a href="{}">{}</a>', url, obj.recipient_id)

    @admin.display(description="Body as received")
    def pretty_body(self, obj):
        raw = bytes(obj.raw_body)
        try:
            text = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
        except (ValueError, UnicodeDecodeError):
            text = raw.decode("utf-8", "replace")
        return format_html('<pre class="callback-body">{}</pre>', text)

    def has_reprocess_permission(self, request):
        return request.user.has_perm("campaigns.change_callbackevent")

    @admin.action(description="Reprocess selected callbacks", permissions=["reprocess"])
    def reprocess(self, request, queryset):
        outcomes = services.callback_events_reprocess(events=queryset.order_by("id"))
        summary = ", ".join(f"{count} {state}" for state, count in outcomes.items())
        self.message_user(request, f"Reprocessed: {summary or 'nothing'}.")


@admin.register(CallbackRejection)
class CallbackRejectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["day", "reason", "count", "last_at", "last_remote_addr"]
    list_filter = ["reason"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "phone", "text", "action", "contact", "campaign"]
    list_filter = ["action", "campaign"]
    search_fields = ["phone", "text"]
    list_select_related = ["contact", "campaign"]
    show_full_result_count = False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail: visible, never editable, not even by a superuser."""

    list_display = ["at", "username_or_system", "action", "campaign_link", "detail",
                    "remote_addr"]  # fmt: skip
    list_filter = ["action", "at"]
    search_fields = ["username", "campaign_name", "detail", "remote_addr"]
    date_hierarchy = "at"
    list_select_related = ["campaign"]
    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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


admin.site.login_form = ThrottledAdminAuthenticationForm
