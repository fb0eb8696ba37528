"""The campaign report, comparison, export and resend, as CampaignAdmin pages.

Figures come from one stored CampaignReport per campaign (see
services/reports.py), so every page here costs the same number of queries
whatever the campaign's size. Each figure links to the recipients behind it.
"""

from datetime import UTC, datetime
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from . import selectors, services
from .charts import bar_chart, percent, timeline_chart, timeline_clock
from .models import AuditEntry, Campaign, Channel, Recipient
from .telesign.codes import status_code_info

COMPARE_MAX = 6
RATES = [
    ("viber_delivery", "Viber delivery rate", "Delivered on Viber ÷ attempted"),
    ("fallback", "Fallback rate", "Fell back to SMS ÷ attempted"),
    (
        "completion",
        "Completion rate",
        "Delivered on Viber or by SMS ÷ attempted (fallback deliveries count)",
    ),
    ("read", "Read rate", "Read ÷ delivered on Viber"),
]


def recipients_url(campaign_id: int, **filters) -> str:
    """The recipient list of one campaign, filtered as a report figure counts."""
    query = {"campaign__id__exact": campaign_id, "is_test__exact": "0", **filters}
    return f"{reverse('admin:campaigns_recipient_changelist')}?{urlencode(query)}"


def attempts_url(campaign_id: int, **filters) -> str:
    query = {
        "recipient__campaign__id__exact": campaign_id,
        "recipient__is_test": "0",
        **filters,
    }
    return f"{reverse('admin:campaigns_channelattempt_changelist')}?{urlencode(query)}"


def seconds_text(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def report_tiles(campaign: Campaign, figures: dict) -> list[dict]:
    """The report's headline numbers, each with the recipients it counts."""
    pk = campaign.pk
    O = Recipient.Outcome  # noqa: E741 - short alias for a long enum
    suppressed = figures["suppressed"]
    tiles = [
        {
            "key": "audience",
            "label": "Audience",
            "value": figures["recipients"],
            "detail": f"{campaign.audience_duplicates} duplicate(s) merged",
            "url": recipients_url(pk),
        },
        {
            "key": "suppressed",
            "label": "Suppressed",
            "value": figures["suppressed_total"],
            "detail": (
                f"{suppressed['opted_out']} opted out · "
                f"{suppressed['invalid']} invalid · "
                f"{suppressed['duplicate']} duplicate"
            ),
            "url": recipients_url(pk, outcome__exact=O.SUPPRESSED),
        },
        {
            "key": "attempted",
            "label": "Attempted",
            "value": figures["attempted"],
            "detail": "sent to Telesign",
            "url": recipients_url(pk, attempted="yes"),
        },
        {
            "key": "viber_delivered",
            "label": "Delivered on Viber",
            "value": figures["viber_delivered"],
            "detail": percent(figures["rates"]["viber_delivery"]) + " of attempted",
            "url": recipients_url(pk, outcome__exact=O.VIBER_DELIVERED),
            "color": "viber",
        },
        {
            "key": "read",
            "label": "Read on Viber",
            "value": figures["read"],
            "detail": percent(figures["rates"]["read"]) + " of Viber deliveries",
            "url": recipients_url(pk, read="yes"),
            "color": "read",
        },
        {
            "key": "sms_delivered",
            "label": (
                "Delivered by SMS" if campaign.sms_only else "Fell back, SMS delivered"
            ),
            "value": figures["sms_delivered"],
            "detail": f"{figures['fell_back']} fell back to SMS",
            "url": recipients_url(pk, outcome__exact=O.SMS_DELIVERED),
            "color": "sms",
        },
        {
            "key": "failed",
            "label": "Failed",
            "value": figures["failed"],
            "detail": f"{len(figures['failure_reasons'])} reason(s), below",
            "url": recipients_url(pk, outcome__exact=O.FAILED),
            "color": "failed",
        },
        {
            "key": "pending",
            "label": "Still pending",
            "value": figures["pending"],
            "detail": f"{figures['pending_not_sent']} not sent yet",
            "url": recipients_url(pk, outcome__exact=O.PENDING),
            "color": "pending",
        },
        {
            "key": "unconfirmed",
            "label": "Unconfirmed",
            "value": figures["unconfirmed"],
            "detail": "Telesign's answer was lost; waiting for a callback",
            "url": recipients_url(
                pk,
                send_status__exact=Recipient.SendStatus.UNCONFIRMED,
                outcome__exact=O.PENDING,
            ),
        },
    ]
    if figures["outcomes"].get(O.CANCELLED):
        tiles.append(
            {
                "key": "cancelled",
                "label": "Not sent (cancelled)",
                "value": figures["outcomes"][O.CANCELLED],
                "detail": "the campaign was cancelled",
                "url": recipients_url(pk, outcome__exact=O.CANCELLED),
            }
        )
    return tiles


def outcome_rows(figures: dict) -> list[tuple[str, int, str]]:
    outcomes = figures["outcomes"]
    O = Recipient.Outcome  # noqa: E741
    return [
        ("Delivered on Viber", outcomes[O.VIBER_DELIVERED], "viber"),
        ("Delivered by SMS", outcomes[O.SMS_DELIVERED], "sms"),
        ("Failed", outcomes[O.FAILED], "failed"),
        ("Pending", outcomes[O.PENDING], "pending"),
        ("Suppressed", outcomes[O.SUPPRESSED], "suppressed"),
        ("Cancelled", outcomes[O.CANCELLED], "cancelled"),
    ]


def code_rows(campaign: Campaign, figures: dict) -> list[dict]:
    rows = []
    for row in figures["codes"]:
        known = status_code_info(row["code"])
        rows.append(
            {
                **row,
                "channel_label": Channel(row["channel"]).label,
                "description": row["description"] or known.description,
                "kind": known.kind,
                "url": attempts_url(
                    campaign.pk,
                    channel__exact=row["channel"],
                    **(
                        {"status_code__exact": row["code"]}
                        if row["code"] is not None
                        else {"status_code__isnull": "True"}
                    ),
                ),
            }
        )
    return rows


def timeline_rows(campaign: Campaign, timeline: dict) -> list[dict]:
    """The chart's numbers as table rows, each count linked to its recipients."""
    size = timeline["bucket_seconds"]
    rows = []
    for epoch, viber, sms in timeline["buckets"]:
        period = {
            "delivered_at__gte": datetime.fromtimestamp(epoch, tz=UTC).isoformat(),
            "delivered_at__lt": datetime.fromtimestamp(
                epoch + size, tz=UTC
            ).isoformat(),
        }
        by_channel = {
            channel: recipients_url(campaign.pk, outcome__exact=outcome, **period)
            for channel, outcome in (
                ("viber", Recipient.Outcome.VIBER_DELIVERED),
                ("sms", Recipient.Outcome.SMS_DELIVERED),
            )
        }
        rows.append(
            {
                "start": timeline_clock(epoch, size),
                "viber": viber,
                "sms": sms,
                "viber_url": by_channel["viber"],
                "sms_url": by_channel["sms"],
            }
        )
    return rows


class CampaignReportsAdminMixin:
    """Report, comparison, export and resend for CampaignAdmin."""

    def has_report_permission(self, request, obj=None):
        return request.user.has_perm("campaigns.view_campaign_report")

    # --- campaign list columns ----------------------------------------------

    @admin.display(description="Progress", ordering="report__progress")
    def progress_column(self, obj):
        report = getattr(obj, "report", None)
        if report is None or report.progress is None:
            return "—"
        return format_html(
            '<progress max="100" value="{}" aria-hidden="true"></progress> {}',
            round(100 * report.progress),
            percent(report.progress),
        )

    @admin.display(
        description="Viber delivered", ordering="report__viber_delivery_rate"
    )
    def viber_rate_column(self, obj):
        report = getattr(obj, "report", None)
        return percent(report.viber_delivery_rate if report else None)

    @admin.display(description="Fallback", ordering="report__fallback_rate")
    def fallback_rate_column(self, obj):
        report = getattr(obj, "report", None)
        return percent(report.fallback_rate if report else None)

    @admin.display(description="Completed", ordering="report__completion_rate")
    def completion_rate_column(self, obj):
        report = getattr(obj, "report", None)
        return percent(report.completion_rate if report else None)

    @admin.display(description="Report")
    def report_link(self, obj):
        return format_html(
            '<a href="{}">Report</a>',
            reverse("admin:campaigns_campaign_report", args=[obj.pk]),
        )

    @admin.display(description="Estimated cost")
    def estimated_cost(self, obj):
        if not obj.pk:
            return "Shown after saving."
        targeted = selectors.campaign_audience_summary(campaign=obj)["targeted"]
        estimate = selectors.campaign_cost_estimate(campaign=obj, targeted=targeted)
        if estimate is None:
            return "Set PRICE_VIBER_MESSAGE and PRICE_SMS_SEGMENT to see costs."
        basis = (
            "measured on finished campaigns"
            if estimate["fallback_share_measured"]
            else "assumed"
        )
        return (
            f"{estimate['total']} {estimate['currency']} for {targeted} recipient(s): "
            f"Viber {estimate['viber']}, SMS {estimate['sms']} at a "
            f"{percent(estimate['fallback_share'])} fallback rate ({basis}); "
            f"at most {estimate['worst']} if every recipient falls back."
        )

    # --- actions -------------------------------------------------------------

    @admin.action(description="Compare selected campaigns", permissions=["report"])
    def compare_selected(self, request, queryset):
        ids = list(queryset.order_by("-created_at").values_list("pk", flat=True))
        if len(ids) > COMPARE_MAX:
            self.message_user(
                request,
                f"Compare at most {COMPARE_MAX} campaigns at a time.",
                messages.WARNING,
            )
            ids = ids[:COMPARE_MAX]
        url = reverse("admin:campaigns_campaign_compare")
        return HttpResponseRedirect(
            f"{url}?{urlencode({'ids': ','.join(map(str, ids))})}"
        )

    def _follow_ups(self, request, queryset, *, include_pending, sms_only):
        for campaign in queryset:
            try:
                follow_up = services.campaign_follow_up_create(
                    campaign=campaign,
                    include_pending=include_pending,
                    sms_only=sms_only,
                    actor=services.actor_from_request(request),
                )
            except services.DomainError as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            members = follow_up.audiences.get().contacts.count()
            self.message_user(
                request,
                format_html(
                    'Created draft <a href="{}">{}</a> for {} recipient(s); '
                    "check it, then launch.",
                    reverse("admin:campaigns_campaign_change", args=[follow_up.pk]),
                    follow_up,
                    members,
                ),
                messages.SUCCESS,
            )

    @admin.action(description="Resend to failed recipients", permissions=["add"])
    def resend_failed(self, request, queryset):
        self._follow_ups(request, queryset, include_pending=False, sms_only=False)

    @admin.action(
        description="Resend to failed and pending recipients by SMS only",
        permissions=["add"],
    )
    def resend_failed_pending_by_sms(self, request, queryset):
        self._follow_ups(request, queryset, include_pending=True, sms_only=True)

    # --- pages -----------------------------------------------------------------

    def report_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:campaign_id>/report/",
                wrap(self.report_view),
                name="campaigns_campaign_report",
            ),
            path(
                "<int:campaign_id>/report/export.csv",
                wrap(self.export_view),
                name="campaigns_campaign_export",
            ),
            path(
                "compare/", wrap(self.compare_view), name="campaigns_campaign_compare"
            ),
        ]

    def _permitted_campaign(self, campaign_id, *, allowed: bool) -> Campaign:
        """The campaign a custom page acts on, after its permission check."""
        if not allowed:
            raise PermissionDenied
        return get_object_or_404(
            Campaign.objects.select_related("image"), pk=campaign_id
        )

    def _reported_campaign(self, request, campaign_id) -> Campaign:
        return self._permitted_campaign(
            campaign_id, allowed=self.has_report_permission(request)
        )

    def report_view(self, request, campaign_id):
        campaign = self._reported_campaign(request, campaign_id)
        report = services.campaign_report_current(campaign=campaign)
        figures = report.figures
        ttd = figures["time_to_delivery"]
        live = campaign.status in (
            Campaign.Status.SENDING,
            Campaign.Status.PAUSED,
        ) or bool(figures["pending"] + figures["unconfirmed"])
        context = {
            **self.admin_site.each_context(request),
            "title": f"Report: {campaign}",
            "opts": self.model._meta,
            "original": campaign,
            "campaign": campaign,
            "report": report,
            "figures": figures,
            "tiles": report_tiles(campaign, figures),
            "rates": [
                (label, percent(figures["rates"][key]), how)
                for key, label, how in RATES
            ],
            "timeline_rows": timeline_rows(campaign, figures["timeline"]),
            "outcome_chart": bar_chart(
                chart_id="outcome-chart",
                title="Recipients by outcome",
                rows=outcome_rows(figures),
            ),
            "timeline_chart": timeline_chart(
                chart_id="timeline-chart", timeline=figures["timeline"]
            ),
            "time_to_delivery": [
                (
                    label,
                    ttd[key]["count"],
                    seconds_text(ttd[key]["median"]),
                    seconds_text(ttd[key]["p90"]),
                )
                for key, label in (("viber", "Viber"), ("sms", "SMS"))
            ],
            "codes": code_rows(campaign, figures),
            "failure_reasons": [
                (
                    reason,
                    count,
                    recipients_url(
                        campaign.pk, outcome__exact="failed", failure_reason=reason
                    ),
                )
                for reason, count in figures["failure_reasons"]
            ],
            "cost": selectors.campaign_cost_actual(campaign=campaign, figures=figures),
            "live": live,
            "refresh_seconds": 10,
            "age_seconds": int((timezone.now() - report.computed_at).total_seconds()),
            "export_outcomes": Recipient.Outcome.choices,
            "can_resend": self.has_add_permission(request),
        }
        return TemplateResponse(
            request, "admin/campaigns/campaign/report.html", context
        )

    def export_view(self, request, campaign_id):
        campaign = self._reported_campaign(request, campaign_id)
        outcome = request.GET.get("outcome") or None
        if outcome is not None and outcome not in Recipient.Outcome.values:
            self.message_user(
                request,
                f"Unknown outcome “{outcome}”: choose one of the list.",
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:campaigns_campaign_report", args=[campaign.pk])
            )
        services.audit_record(
            actor=services.actor_from_request(request),
            action=AuditEntry.Action.EXPORTED,
            campaign=campaign,
            detail=f"Recipients CSV, {outcome or 'all outcomes'}.",
        )
        response = StreamingHttpResponse(
            selectors.campaign_recipients_csv(campaign=campaign, outcome=outcome),
            content_type="text/csv; charset=utf-8",
        )
        name = f"campaign-{campaign.pk}-{outcome or 'all'}-recipients.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response

    def compare_view(self, request):
        if not self.has_report_permission(request):
            raise PermissionDenied
        raw = request.GET.get("ids", "")
        ids = [int(part) for part in raw.split(",") if part.strip().isdigit()]
        campaigns = list(
            Campaign.objects.filter(pk__in=ids[:COMPARE_MAX]).order_by("-created_at")
        )
        if len(campaigns) < 2:
            self.message_user(
                request, "Select two or more campaigns to compare.", messages.WARNING
            )
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_changelist"))
        columns = []
        for campaign in campaigns:
            figures = services.campaign_report_current(campaign=campaign).figures
            columns.append(
                {
                    "campaign": campaign,
                    "figures": figures,
                    "cost": selectors.campaign_cost_actual(
                        campaign=campaign, figures=figures
                    ),
                }
            )
        rows = [
            ("Status", [c["campaign"].get_status_display() for c in columns]),
            ("Started", [c["campaign"].started_at for c in columns]),
            ("Audience", [c["figures"]["recipients"] for c in columns]),
            ("Suppressed", [c["figures"]["suppressed_total"] for c in columns]),
            ("Attempted", [c["figures"]["attempted"] for c in columns]),
            ("Delivered on Viber", [c["figures"]["viber_delivered"] for c in columns]),
            ("Read on Viber", [c["figures"]["read"] for c in columns]),
            ("Fell back to SMS", [c["figures"]["fell_back"] for c in columns]),
            ("Delivered by SMS", [c["figures"]["sms_delivered"] for c in columns]),
            ("Failed", [c["figures"]["failed"] for c in columns]),
            ("Still pending", [c["figures"]["pending"] for c in columns]),
            ("Unconfirmed", [c["figures"]["unconfirmed"] for c in columns]),
            (
                "Viber delivery rate",
                [percent(c["figures"]["rates"]["viber_delivery"]) for c in columns],
            ),
            (
                "Fallback rate",
                [percent(c["figures"]["rates"]["fallback"]) for c in columns],
            ),
            (
                "Completion rate",
                [percent(c["figures"]["rates"]["completion"]) for c in columns],
            ),
            ("Read rate", [percent(c["figures"]["rates"]["read"]) for c in columns]),
            (
                "Median time to delivery, Viber",
                [
                    seconds_text(c["figures"]["time_to_delivery"]["viber"]["median"])
                    for c in columns
                ],
            ),
            (
                "Median time to delivery, SMS",
                [
                    seconds_text(c["figures"]["time_to_delivery"]["sms"]["median"])
                    for c in columns
                ],
            ),
            (
                "Cost",
                [
                    f"{c['cost']['total']} {c['cost']['currency']}"
                    if c["cost"]
                    else "—"
                    for c in columns
                ],
            ),
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Compare campaigns",
            "opts": self.model._meta,
            "columns": columns,
            "rows": rows,
        }
        return TemplateResponse(
            request, "admin/campaigns/campaign/compare.html", context
        )
