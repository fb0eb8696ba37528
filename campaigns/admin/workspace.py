"""The workspace a campaign is built from: images, contacts and audiences.

An audience's contacts come in from a CSV file: its pages are in
`audience_imports`.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from .. import selectors, services
from ..forms import ContactForm, ImageAssetForm
from ..models import Audience, Contact, ImageAsset
from ..phones import phone_search_term
from .audience_imports import (
    IMPORT_PAGES,
    AudienceImportInline,
    AudienceImportPagesMixin,
)
from .base import CustomPagesMixin
from .contact_messages import contact_messages_table


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
    readonly_fields = [
        "opted_out_at",
        "opt_out_source",
        "created_at",
        "updated_at",
        "message_history",
    ]
    actions = ["opt_out", "opt_in"]
    show_full_result_count = False

    class Media:
        css = {"all": ["campaigns/admin.css"]}

    @admin.display(description="Messages")
    def message_history(self, obj):
        """Every campaign's message to this contact: channel, outcome, read."""
        return contact_messages_table(obj) if obj.pk else "—"

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


@admin.register(Audience)
class AudienceAdmin(AudienceImportPagesMixin, CustomPagesMixin, admin.ModelAdmin):
    list_display = ["name", "contact_count", "opted_out_count", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["contacts_link", "created_at"]
    fields = ["name", "description", "contacts_link", "created_at"]
    inlines = [AudienceImportInline]
    custom_pages = IMPORT_PAGES

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
