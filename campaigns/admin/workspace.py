"""The workspace a campaign is built from: images, contacts and audiences.

An audience's contacts come in from a CSV file in two steps, each a page of the
audience: upload (the file is stored and checked, nothing else is written),
then check and confirm or discard. The rows a check rejected download as CSV.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header

from .. import selectors, services
from ..audience_csv import AudienceFileError, rejected_rows_csv
from ..forms import AudienceImportUploadForm, ContactForm, ImageAssetForm
from ..models import Audience, AudienceImport, Contact, ImageAsset
from ..phones import phone_search_term
from .base import AdminPage, CustomPagesMixin, ReadOnlyAdminMixin


def image_thumbnail(asset: ImageAsset | None, *, size: str = "small") -> str:
    """The image at one of the sizes campaigns/admin.css defines (small,
    medium, large): a class, as the Content-Security-Policy refuses style
    attributes."""
    if asset is None:
        return "—"
    return format_html(
        '<img src="{}" alt="{}" class="thumbnail thumbnail-{}">',
        asset.public_url,
        asset.name,
        size,
    )


# --- Image library ----------------------------------------------------------


@admin.register(ImageAsset)
class ImageAssetAdmin(admin.ModelAdmin):
    form = ImageAssetForm

    class Media:
        css = {"all": ["campaigns/admin.css"]}

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
        # The form only checked the upload; storing it is the service's job,
        # after validation, so a refused form leaves no file behind.
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
        return image_thumbnail(obj, size="large")

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
        # Numbers are stored as E.164: "0044 7911 123-456", "447911123456" and
        # "+44 7911 123456" all find +447911123456.
        search_term = phone_search_term(
            search_term, default_region=settings.DEFAULT_PHONE_REGION
        )
        return super().get_search_results(request, queryset, search_term)

    # Saving and deleting go through the services: a change to who is messaged
    # or to their fields withdraws approvals of campaigns not started.
    def save_model(self, request, obj, form, change):
        services.contact_save(contact=obj, actor=services.actor_from_request(request))

    def delete_model(self, request, obj):
        services.contacts_delete(
            contacts=Contact.objects.filter(pk=obj.pk),
            actor=services.actor_from_request(request),
        )

    def delete_queryset(self, request, queryset):
        services.contacts_delete(
            contacts=queryset, actor=services.actor_from_request(request)
        )

    @admin.action(description="Opt out selected contacts", permissions=["change"])
    def opt_out(self, request, queryset):
        count = services.contacts_opt_out(
            contact_ids=queryset.values("id"),
            actor=services.actor_from_request(request),
        )
        self.message_user(request, f"{count} contact(s) opted out.", messages.SUCCESS)

    @admin.action(description="Opt selected contacts back in", permissions=["change"])
    def opt_in(self, request, queryset):
        count = services.contacts_opt_in(
            contact_ids=queryset.values("id"),
            actor=services.actor_from_request(request),
        )
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
class AudienceAdmin(CustomPagesMixin, admin.ModelAdmin):
    list_display = ["name", "contact_count", "opted_out_count", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["contacts_link", "created_at"]
    fields = ["name", "description", "contacts_link", "created_at"]
    inlines = [AudienceImportInline]
    custom_pages = (
        AdminPage(
            "<int:audience_id>/import/",
            "import_upload_view",
            "campaigns_audience_import",
        ),
        AdminPage(
            "imports/<int:import_id>/",
            "import_check_view",
            "campaigns_audience_import_check",
        ),
        AdminPage(
            "imports/<int:import_id>/rejected.csv",
            "import_rejected_csv_view",
            "campaigns_audience_import_rejected",
        ),
    )

    def get_queryset(self, request):
        return selectors.audiences_with_counts()

    def delete_model(self, request, obj):
        services.audiences_delete(
            audiences=[obj], actor=services.actor_from_request(request)
        )

    def delete_queryset(self, request, queryset):
        services.audiences_delete(
            audiences=list(queryset), actor=services.actor_from_request(request)
        )

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

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("campaigns.change_audience") and (
            request.user.has_perm("campaigns.add_contact")
        )

    def import_upload_view(self, request, audience_id):
        audience = self.page_object(
            audience_id, allowed=self.has_import_permission(request)
        )
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
        return self.page_response(
            request,
            "admin/campaigns/audience/import_upload.html",
            title=f"Import contacts into “{audience}”",
            audience=audience,
            form=form,
            default_region=settings.DEFAULT_PHONE_REGION,
        )

    def import_check_view(self, request, import_id):
        audience_import = self.page_object(
            import_id,
            allowed=self.has_import_permission(request),
            queryset=AudienceImport.objects.select_related("audience"),
        )
        audience_url = reverse(
            "admin:campaigns_audience_change", args=[audience_import.audience_id]
        )
        if request.method == "POST":
            self._import_confirm_or_discard(request, audience_import)
            return HttpResponseRedirect(audience_url)

        parsed = None
        if audience_import.status == AudienceImport.Status.CHECKED:
            parsed = services.audience_import_parse(audience_import=audience_import)
        return self.page_response(
            request,
            "admin/campaigns/audience/import_check.html",
            title=f"Check “{audience_import.file_name}” before importing",
            audience_import=audience_import,
            audience_url=audience_url,
            parsed=parsed,
            preview_rows=parsed.rows[:10] if parsed else [],
            rejected_rows=parsed.rejected[:500] if parsed else [],
            duplicate_rows=parsed.duplicates[:500] if parsed else [],
            nul_lines_shown=parsed.nul_lines[:20] if parsed else [],
        )

    def _import_confirm_or_discard(self, request, audience_import) -> None:
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

    def import_rejected_csv_view(self, request, import_id):
        audience_import = self.page_object(
            import_id,
            allowed=self.has_import_permission(request),
            queryset=AudienceImport.objects.all(),
        )
        if audience_import.status != AudienceImport.Status.CHECKED:
            raise PermissionDenied("The file of this import is no longer kept.")
        parsed = services.audience_import_parse(audience_import=audience_import)
        response = HttpResponse(
            rejected_rows_csv(parsed), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True,
            filename=download_name(audience_import.file_name, "rejected.csv"),
        )
        return response


def download_name(uploaded_name: str, suffix: str) -> str:
    """A download's name after the uploaded file's (`list-rejected.csv`).

    The uploaded name is the uploader's text: characters that cannot stand in
    a header (CR, LF, other controls) are dropped; quotes and non-ASCII are
    escaped by `content_disposition_header`.
    """
    stem = uploaded_name.rsplit(".", 1)[0]
    stem = "".join(ch for ch in stem if ch.isprintable()).strip() or "audience"
    return f"{stem}-{suffix}"
