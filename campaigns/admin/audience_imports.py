"""An audience's CSV import pages: upload, then one page per import that
follows it from its check (in the background, with a progress bar) to the
choice about known contacts and the confirmation, then the import itself.
The page can be left and come back to; the audience lists every import with
its state. The rejected rows download as CSV.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header

from .. import selectors, services
from ..audience_csv import AudienceFileError
from ..forms import AudienceImportConfirmForm, AudienceImportUploadForm
from ..models import AudienceImport, AudienceImportProblem
from ..phones import phone_region_choices
from .base import AdminPage, ReadOnlyAdminMixin

# How often a running import's page reloads itself.
PROGRESS_REFRESH_SECONDS = 1


def import_state(audience_import: AudienceImport) -> str:
    """Where an import stands, in a few words ("Importing 1,200 of 5,000")."""
    status = AudienceImport.Status
    done, of = audience_import.rows_done, audience_import.progress_of
    if audience_import.status == status.CHECKING:
        return f"Checking: {done:,} of about {of:,} rows read"
    if audience_import.status == status.IMPORTING:
        return f"Importing {done:,} of {of:,} row(s)"
    if audience_import.status == status.IMPORTED:
        return (
            f"Done: {audience_import.contacts_created:,} new, "
            f"{audience_import.contacts_updated:,} updated, "
            f"{audience_import.members_added:,} added to the audience"
        )
    if audience_import.status == status.FAILED:
        return f"Failed: {audience_import.failure_reason}"
    return audience_import.get_status_display()


class AudienceImportInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AudienceImport
    fields = [
        "file_link",
        "state",
        "region",
        "rows_total",
        "rows_valid",
        "rows_rejected",
        "uploaded_by",
        "created_at",
    ]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "Import history"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("campaigns.view_audience")

    @admin.display(description="File")
    def file_link(self, obj):
        url = reverse("admin:campaigns_audience_import_check", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.file_name)

    @admin.display(description="State")
    def state(self, obj):
        return import_state(obj)


IMPORT_PAGES = (
    AdminPage(
        "<int:audience_id>/import/", "import_upload_view", "campaigns_audience_import"
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


class AudienceImportPagesMixin:
    """The import pages of AudienceAdmin (a CustomPagesMixin)."""

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("campaigns.change_audience") and (
            request.user.has_perm("campaigns.add_contact")
        )

    def _import_page_object(self, request, import_id) -> AudienceImport:
        return self.page_object(
            import_id,
            allowed=self.has_import_permission(request),
            queryset=AudienceImport.objects.select_related("audience"),
        )

    def import_upload_view(self, request, audience_id):
        audience = self.page_object(
            audience_id, allowed=self.has_import_permission(request)
        )
        form = AudienceImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                audience_import = services.audience_import_upload(
                    audience=audience,
                    file_name=upload.name,
                    content=upload.read(),
                    region=form.cleaned_data["region"],
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
        )

    def import_check_view(self, request, import_id):
        audience_import = self._import_page_object(request, import_id)
        confirm_form = AudienceImportConfirmForm(request.POST or None)
        if request.method == "POST":
            self._import_confirm_or_discard(request, audience_import, confirm_form)
            return HttpResponseRedirect(request.path)
        checked = audience_import.status == AudienceImport.Status.CHECKED
        problems = selectors.audience_import_problems
        kinds = AudienceImportProblem.Kind
        return self.page_response(
            request,
            "admin/campaigns/audience/import_check.html",
            title=f"Import “{audience_import.file_name}”",
            audience_import=audience_import,
            state=import_state(audience_import),
            region_name=dict(phone_region_choices()).get(
                audience_import.region, audience_import.region
            ),
            refresh_seconds=PROGRESS_REFRESH_SECONDS,
            audience_url=reverse(
                "admin:campaigns_audience_change", args=[audience_import.audience_id]
            ),
            confirm_form=confirm_form,
            preview_rows=selectors.audience_import_preview_rows(
                audience_import=audience_import
            )
            if checked
            else [],
            rejected_rows=problems(audience_import=audience_import, kind=kinds.REJECTED)
            if checked
            else [],
            duplicate_rows=problems(
                audience_import=audience_import, kind=kinds.DUPLICATE
            )
            if checked
            else [],
        )

    def _import_confirm_or_discard(self, request, audience_import, form) -> None:
        try:
            if "confirm" not in request.POST:
                services.audience_import_discard(audience_import=audience_import)
                self.message_user(request, "Import discarded.", messages.INFO)
            elif form.is_valid():
                services.audience_import_confirm(
                    audience_import=audience_import,
                    update_existing=form.update_existing,
                    actor=services.actor_from_request(request),
                )
            else:
                self.message_user(request, form.errors.as_text(), messages.ERROR)
        except services.DomainError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def import_rejected_csv_view(self, request, import_id):
        audience_import = self._import_page_object(request, import_id)
        if audience_import.status != AudienceImport.Status.CHECKED:
            raise PermissionDenied("The rows of this import are no longer kept.")
        response = StreamingHttpResponse(
            selectors.audience_import_rejected_csv(audience_import=audience_import),
            content_type="text/csv; charset=utf-8",
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
