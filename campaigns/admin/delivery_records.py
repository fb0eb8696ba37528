"""Delivery records: what was sent, what Telesign answered, what came back.

Recipients, their channel attempts, the callbacks received (and those refused)
and inbound replies are written by the sending engine and the callback
endpoint only; here they are read, filtered and, for recipients and
callbacks, rebuilt or reprocessed. Lists of a million rows stay fast: no full
counts (CappedCountPaginator) and orderings that follow an index.
"""

import json
from functools import cached_property

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.paginator import Paginator
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .. import selectors, services
from ..models import (
    CallbackEvent,
    CallbackRejection,
    ChannelAttempt,
    InboundMessage,
    Recipient,
)
from ..telesign.codes import FAILED_RANGES, CodeFamily, family_codes
from .base import ReadOnlyAdminMixin


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
    """Telesign's status codes in the families a person asks about: delivered
    (or read), still pending, failed, no status yet, anything else. Listing
    the codes present instead would read every row of a table of millions.
    A single code still filters (`?status_code__exact=3000`: the report's
    per-code links)."""

    title = "Telesign status"
    parameter_name = "status"
    FAMILIES = [
        (CodeFamily.DELIVERED, "Delivered or read"),
        (CodeFamily.PENDING, "Pending"),
        (CodeFamily.FAILED, "Failed"),
        ("none", "No status yet"),
        (CodeFamily.OTHER, "Other codes"),
    ]

    def lookups(self, request, model_admin):
        return [(str(value), label) for value, label in self.FAMILIES]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == "none":
            return queryset.filter(status_code__isnull=True)
        if value == CodeFamily.OTHER:
            known = Q(status_code__isnull=True)
            for family in (CodeFamily.DELIVERED, CodeFamily.PENDING, CodeFamily.FAILED):
                known |= self.family_q(family)
            return queryset.exclude(known)
        if value in (CodeFamily.DELIVERED, CodeFamily.PENDING, CodeFamily.FAILED):
            return queryset.filter(self.family_q(CodeFamily(value)))
        raise IncorrectLookupParameters(f"“{value}” is not a Telesign status.")

    @staticmethod
    def family_q(family: CodeFamily) -> Q:
        q = Q(status_code__in=family_codes(family))
        if family == CodeFamily.FAILED:
            for start, end in FAILED_RANGES:
                q |= Q(status_code__gte=start, status_code__lt=end)
        return q


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
    # A recipient's page lists its first callbacks, not an unbounded list.
    CALLBACKS_SHOWN = 100
    actions = ["rebuild_from_callbacks"]

    def lookup_allowed(self, lookup, value, request=None):
        # The report links each failure reason and each period of its
        # deliveries chart to the recipients behind them.
        if lookup in ("failure_reason", "delivered_at__gte", "delivered_at__lt"):
            return True
        return super().lookup_allowed(lookup, value, request)

    # What a marketer reads about one message; the engine's bookkeeping (its
    # worker ids, retries, our message id) only for administrators, folded.
    MESSAGE_FIELDS = [
        "timeline",
        "campaign",
        "contact",
        "phone",
        "is_test",
        "outcome",
        "last_channel",
        "status_code",
        "status_description",
        "failure_reason",
        "suppression_reason",
        "sent_at",
        "delivered_at",
        "read_at",
        "opted_out_at",
        "callbacks_received",
    ]
    ENGINE_FIELDS = [
        "send_status",
        "send_attempts",
        "next_attempt_at",
        "claimed_by",
        "claimed_at",
        "external_id",
        "reference_id",
        "status_updated_on",
        "status_checked_at",
        "status_check_end",
        "created_at",
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(None, {"fields": self.MESSAGE_FIELDS})]
        if self.has_rebuild_permission(request):
            fieldsets.append(
                (
                    "Sending engine details",
                    {"classes": ["collapse"], "fields": self.ENGINE_FIELDS},
                )
            )
        return fieldsets

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
        events = selectors.recipient_callback_events(
            recipient=obj, limit=self.CALLBACKS_SHOWN
        )
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
                for e in events
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
        "received_count",
    ]
    list_filter = ["kind", "processing", "signature", "status_code"]
    search_fields = ["reference_id", "external_id"]
    show_full_result_count = False
    fields = [
        "received_at",
        "received_count",
        "last_received_at",
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
            text.encode()  # a lone surrogate, decoded from "\ud800", is not UTF-8
        except (ValueError, UnicodeError, RecursionError):
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
