"""What the admin's own pages share: the custom-page helper and read-only rows.

Beside the changelist and change form Django gives every model, some models
have pages of their own: an audience's CSV import, a campaign's launch,
control, test send, preview, report, export and comparison. `CustomPagesMixin`
builds them the way Django's admin builds its own pages (`ModelAdmin.get_urls`):
their URLs come before the admin's own, each wrapped in
`admin_site.admin_view` (staff login, CSRF, no caching); their context starts
from `admin_site.each_context` (site header, navigation); the object a page acts
on is looked up only once the page's permission holds.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path

# The largest id a BigAutoField holds. A larger number names no row, and
# SQLite cannot even compare one (OverflowError), so it is never passed on.
ID_MAX = 2**63 - 1


def id_from_request(raw: str | None) -> int | None:
    """The id in a query parameter ("12"), or None if it holds no id.

    Only ASCII digits count: `str.isdigit()` also accepts "²", which `int()`
    refuses, and `int()` accepts "١٢" and " 12_0 ", which no link of ours makes.
    """
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(ID_MAX)):
        return None
    value = int(text)
    return value if 0 < value <= ID_MAX else None


def ids_from_request(raw: str | None) -> list[int]:
    """The ids of a comma-separated query parameter ("3,5,8"); anything that is
    not an id is left out."""
    ids = (id_from_request(part) for part in (raw or "").split(","))
    return [value for value in ids if value is not None]


class ReadOnlyAdminMixin:
    """Rows only the app writes (delivery records, import history, the audit
    trail): nobody adds, edits or deletes them by hand, not even a superuser."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@dataclass(frozen=True)
class AdminPage:
    """One custom page of a ModelAdmin.

    `route` is relative to the model's admin URL, `view` names the ModelAdmin
    method serving it and `name` is its URL name (reversed as "admin:<name>").
    """

    route: str
    view: str
    name: str


class CustomPagesMixin:
    """A ModelAdmin's `custom_pages`: their URLs, their context, their object."""

    custom_pages: tuple[AdminPage, ...] = ()

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            *(
                path(page.route, wrap(getattr(self, page.view)), name=page.name)
                for page in self.custom_pages
            ),
            *super().get_urls(),
        ]

    def page_response(
        self, request, template: str, *, title: str, **context
    ) -> TemplateResponse:
        """`template` (extending admin/base_site.html) with the admin's context."""
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.model._meta,
                **context,
            },
        )

    def page_permission_check(self, allowed: bool) -> None:
        if not allowed:
            raise PermissionDenied

    def page_queryset(self) -> QuerySet:
        """Where a page looks up its object unless it names another queryset."""
        return self.model._default_manager.all()

    def page_object(
        self, object_id, *, allowed: bool, queryset: QuerySet | None = None
    ) -> Model:
        """The row a page acts on, once the page's permission (`allowed`) holds.

        The permission comes first: someone without it learns nothing, not even
        whether the row exists (403, never 404).
        """
        self.page_permission_check(allowed)
        return get_object_or_404(
            self.page_queryset() if queryset is None else queryset, pk=object_id
        )
