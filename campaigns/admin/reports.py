"""The campaign report, comparison, export and resend, as CampaignAdmin pages.

Figures come from one stored CampaignReport per campaign (see
services/reports.py), so every page here costs the same number of queries
whatever the campaign's size. Each figure links to the recipients behind it.
The campaign list's progress and rate columns read the same stored report.
"""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from .. import selectors, services
from ..charts import bar_chart, percent, timeline_chart
from ..models import AuditEntry, Campaign, Recipient
from ..selectors import COMPARE_MAX
from .base import AdminPage, ids_from_request
from .report_tiles import (
    code_rows,
    outcome_rows,
    recipients_url,
    report_tiles,
    seconds_text,
    timeline_rows,
)

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

# Said where a cost would be, when the workspace has no prices yet.
NO_PRICES = (
    "No prices are set for this workspace yet: ask an administrator to enter "
    "the price of a Viber message and of an SMS segment to see costs."
)

REPORT_PAGES = (
    AdminPage("<int:campaign_id>/report/", "report_view", "campaigns_campaign_report"),
    AdminPage(
        "<int:campaign_id>/report/export.csv",
        "export_view",
        "campaigns_campaign_export",
    ),
    AdminPage("compare/", "compare_view", "campaigns_campaign_compare"),
)


def whole_percent(rate: float | None) -> str:
    """A rate as a whole percentage, narrow enough for a list column."""
    return "—" if rate is None else f"{100 * rate:.0f}%"


class CampaignReportsAdminMixin:
    """Report, comparison, export and resend for CampaignAdmin, whose
    custom_pages (base.CustomPagesMixin) include REPORT_PAGES."""

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
            whole_percent(report.progress),
        )

    @admin.display(description="Results", ordering="report__completion_rate")
    def results_column(self, obj):
        """Delivered (by either channel), then on Viber and fallen back."""
        report = getattr(obj, "report", None)
        if report is None or report.completion_rate is None:
            return "—"
        return format_html(
            '{} delivered<br><span class="campaign-when">{} on Viber · {} fell '
            "back</span>",
            whole_percent(report.completion_rate),
            whole_percent(report.viber_delivery_rate),
            whole_percent(report.fallback_rate),
        )

    @admin.display(description="Status", ordering="status")
    def status_column(self, obj):
        """The campaign's status and the one date that matters in it."""
        label, moment = next(
            (label, moment)
            for label, moment in (
                ("finished", obj.completed_at),
                ("started", obj.started_at),
                ("starts", obj.scheduled_at),
                ("created", obj.created_at),
            )
            if moment is not None
        )
        return format_html(
            '{}<br><span class="campaign-when">{} {}</span>',
            obj.get_status_display(),
            label,
            timezone.localtime(moment).strftime("%d %b %H:%M"),
        )

    @admin.display(description="Report")
    def report_link(self, obj):
        return format_html(
            '<a href="{}" class="report-link">Report</a>',
            reverse("admin:campaigns_campaign_report", args=[obj.pk]),
        )

    # --- actions -------------------------------------------------------------

    @admin.action(description="Compare selected campaigns", permissions=["report"])
    def compare_selected(self, request, queryset):
        ids = selectors.campaign_ids_newest_first(campaigns=queryset)
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
            members = selectors.campaign_follow_up_size(follow_up=follow_up)
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

    def _reported_campaign(self, request, campaign_id) -> Campaign:
        return self.page_object(
            campaign_id, allowed=self.has_report_permission(request)
        )

    def report_view(self, request, campaign_id):
        campaign = self._reported_campaign(request, campaign_id)
        report = services.campaign_report_current(campaign=campaign)
        figures = selectors.ReportFigures.from_json(report.figures)
        ttd = figures.time_to_delivery
        context = {
            "original": campaign,
            "campaign": campaign,
            "report": report,
            "figures": figures,
            "tiles": report_tiles(campaign, figures),
            "rates": [
                (label, percent(getattr(figures.rates, key)), how)
                for key, label, how in RATES
            ],
            "timeline_rows": timeline_rows(campaign, figures.timeline),
            "outcome_chart": bar_chart(
                chart_id="outcome-chart",
                title="Recipients by outcome",
                rows=outcome_rows(figures),
            ),
            "timeline_chart": timeline_chart(
                chart_id="timeline-chart", timeline=figures.timeline
            ),
            "time_to_delivery": [
                (
                    label,
                    getattr(ttd, key).count,
                    seconds_text(getattr(ttd, key).median),
                    seconds_text(getattr(ttd, key).p90),
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
                for reason, count in figures.failure_reasons
            ],
            "cost": selectors.campaign_cost_actual(campaign=campaign, figures=figures),
            "live": selectors.campaign_report_live(campaign=campaign, figures=figures),
            "refresh_seconds": 10,
            "age_seconds": int((timezone.now() - report.computed_at).total_seconds()),
            "export_outcomes": Recipient.Outcome.choices,
            "can_resend": self.has_add_permission(request),
            "no_prices": NO_PRICES,
        }
        return self.page_response(
            request,
            "admin/campaigns/campaign/report.html",
            title=f"Report: {campaign}",
            **context,
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
        self.page_permission_check(self.has_report_permission(request))
        campaigns = selectors.campaigns_to_compare(
            campaign_ids=ids_from_request(request.GET.get("ids"))
        )
        if len(campaigns) < 2:
            self.message_user(
                request, "Select two or more campaigns to compare.", messages.WARNING
            )
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_changelist"))
        columns = compare_columns(campaigns)
        return self.page_response(
            request,
            "admin/campaigns/campaign/compare.html",
            title="Compare campaigns",
            columns=columns,
            rows=compare_rows(columns),
        )


def compare_columns(campaigns: list[Campaign]) -> list[dict]:
    """One column per campaign: the campaign, its figures and its cost."""
    columns = []
    for campaign in campaigns:
        report = services.campaign_report_current(campaign=campaign)
        figures = selectors.ReportFigures.from_json(report.figures)
        columns.append(
            {
                "campaign": campaign,
                "figures": figures,
                "cost": selectors.campaign_cost_actual(
                    campaign=campaign, figures=figures
                ),
            }
        )
    return columns


def compare_rows(columns: list[dict]) -> list[tuple[str, list]]:
    """The comparison's table: one row per figure, one cell per campaign."""
    return [
        ("Status", [c["campaign"].get_status_display() for c in columns]),
        ("Started", [c["campaign"].started_at for c in columns]),
        ("Audience", [c["figures"].recipients for c in columns]),
        ("Suppressed", [c["figures"].suppressed_total for c in columns]),
        ("Attempted", [c["figures"].attempted for c in columns]),
        ("Delivered on Viber", [c["figures"].viber_delivered for c in columns]),
        ("Read on Viber", [c["figures"].read for c in columns]),
        ("Fell back to SMS", [c["figures"].fell_back for c in columns]),
        ("Delivered by SMS", [c["figures"].sms_delivered for c in columns]),
        ("Failed", [c["figures"].failed for c in columns]),
        ("Still pending", [c["figures"].pending for c in columns]),
        ("Unconfirmed", [c["figures"].unconfirmed for c in columns]),
        (
            "Viber delivery rate",
            [percent(c["figures"].rates.viber_delivery) for c in columns],
        ),
        (
            "Fallback rate",
            [percent(c["figures"].rates.fallback) for c in columns],
        ),
        (
            "Completion rate",
            [percent(c["figures"].rates.completion) for c in columns],
        ),
        ("Read rate", [percent(c["figures"].rates.read) for c in columns]),
        (
            "Median time to delivery, Viber",
            [seconds_text(c["figures"].time_to_delivery.viber.median) for c in columns],
        ),
        (
            "Median time to delivery, SMS",
            [seconds_text(c["figures"].time_to_delivery.sms.median) for c in columns],
        ),
        (
            "Cost",
            [
                f"{c['cost']['total']} {c['cost']['currency']}" if c["cost"] else "—"
                for c in columns
            ],
        ),
    ]
