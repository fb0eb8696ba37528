"""Building a campaign: the editor as guided steps, its live figures and review.

The add and change form is one Django form whose fieldsets are steps (name
and image → audience → message → schedule and limits → review);
campaign_steps.js shows one step at a time, and without JavaScript every step
is shown at once. While the marketer types, campaign_live.js asks `live_view`
what the form as typed would message and cost, and fills the rows marked
`data-live` (the side panel and the review). Saving, placeholder checks,
approvals and test sends stay with the form and the services.
"""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import reverse
from django.utils.html import format_html

from .. import selectors
from ..models import Campaign
from ..sms import sms_length_summary
from ..telesign.limits import FALLBACK_TIME_MAX, FALLBACK_TIME_MIN
from .base import id_from_request, ids_from_request
from .campaign_texts import (
    channels_description,
    contact_label,
    cost_text,
    duration_text,
    quiet_hours_text,
    recipients_text,
    starts_text,
)
from .workspace import image_thumbnail

STEPS = [
    (
        "Name and image",
        {
            "classes": ["step"],
            "fields": [
                "name",
                "image",
                "image_preview",
                "viber_template",
                "message_type",
            ],
        },
    ),
    ("Audience", {"classes": ["step"], "fields": ["audiences", "audience_summary"]}),
    (
        "Message",
        {
            "classes": ["step"],
            "fields": [
                "channels_summary",
                "sms_fallback_enabled",
                "sms_only",
                "fallback_time",
                "sms_text",
                "sms_length",
            ],
        },
    ),
    (
        "Schedule and limits",
        {
            "classes": ["step"],
            "description": "Quiet hours: with both times set, recipients are "
            "messaged only between them in their own local time (from their "
            "phone number's country and area); the others wait for their "
            "window. Leave both empty to send at any hour.",
            "fields": [
                "scheduled_at",
                "max_send_rate",
                "send_window_start",
                "send_window_end",
            ],
        },
    ),
    (
        "Review",
        {
            "classes": ["step", "review"],
            "fields": [
                "review_phone",
                "review_figures",
                "approval",
                "test_send_panel",
                "test_sends",
            ],
        },
    ),
]
STATUS = ("Status", {"fields": ["status", "status_reason", "send_progress"]})
HISTORY = (
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
)
# Rows the steps show that nobody types into.
BUILDING_READONLY = [
    "image_preview",
    "audience_summary",
    "channels_summary",
    "sms_length",
    "review_phone",
    "review_figures",
    "test_send_panel",
]


def live(key: str, text) -> str:
    """A row's text, marked so campaign_live.js replaces it as the form changes."""
    return format_html('<span data-live="{}">{}</span>', key, text)


def _flag(raw: str | None) -> bool:
    return (raw or "") in ("1", "on", "true")


def _rate(raw: str | None) -> int:
    value = id_from_request(raw) or 1
    return min(value, 1000)


def _fallback_time(raw: str | None) -> int:
    """The typed fallback time, or the model's default while it is out of range
    (the form says why when it is saved)."""
    value = id_from_request(raw)
    if value is None or not FALLBACK_TIME_MIN <= value <= FALLBACK_TIME_MAX:
        return Campaign._meta.get_field("fallback_time").default
    return value


def draft_from_request(params) -> tuple[Campaign, int | None, list[int]]:
    """The campaign as the form holds it (unsaved), its image id and audience ids."""
    draft = Campaign(
        sms_text=(params.get("sms_text") or "").replace("\r\n", "\n"),
        sms_fallback_enabled=_flag(params.get("sms_fallback_enabled")),
        sms_only=_flag(params.get("sms_only")),
        max_send_rate=_rate(params.get("max_send_rate")),
        fallback_time=_fallback_time(params.get("fallback_time")),
    )
    return (
        draft,
        id_from_request(params.get("image")),
        ids_from_request(params.get("audiences")),
    )


def preview_picker(params, *, campaign: Campaign, show_contacts: bool) -> dict:
    """The preview's contact picker over every targeted contact: a search by
    name or number for someone allowed to see contacts; for anyone else a
    position ("Contact 1234"), which reveals nobody's name or number."""
    contact_id = id_from_request(params.get("contact"))
    if not show_contacts:
        position = id_from_request(params.get("position"))
        if position is not None:
            chosen = selectors.campaign_contact_at(campaign=campaign, position=position)
            contact_id = chosen.pk if chosen else None
        return {"show_contacts": False, "contact_id": contact_id}
    query = (params.get("q") or "").strip()[:100]
    matches = selectors.campaign_contacts_search(campaign=campaign, query=query)
    if contact_id is None and query and matches:
        contact_id = matches[0].pk
    return {
        "show_contacts": True,
        "contact_id": contact_id,
        "query": query,
        "matches": matches,
    }


class CampaignBuildingAdminMixin:
    """The editor's steps, its live figures and its review rows."""

    def get_fieldsets(self, request, obj=None):
        steps = STEPS
        if not self.has_launch_permission(request):
            review = dict(steps[-1][1])
            review["fields"] = [f for f in review["fields"] if f != "test_send_panel"]
            steps = [*steps[:-1], (steps[-1][0], review)]
        return steps if obj is None else [STATUS, *steps, HISTORY]

    def live_view(self, request):
        """What the form as typed would message and cost (JSON for the editor).

        Posted (an SMS text may be longer than a URL a server accepts), and
        only for people who may edit campaigns: any text may be personalised.
        """
        self.page_permission_check(
            self.has_add_permission(request) or self.has_change_permission(request)
        )
        draft, image_id, audience_ids = draft_from_request(request.POST)
        figures = selectors.campaign_draft_figures(
            draft=draft, image_id=image_id, audience_ids=audience_ids
        )
        show_contacts = request.user.has_perm("campaigns.view_contact")
        image = figures.image
        return JsonResponse(
            {
                "image": {"name": image.name, "url": image.public_url}
                if image
                else None,
                "recipients": recipients_text(
                    contacts=figures.contacts,
                    opted_out=figures.opted_out,
                    targeted=figures.targeted,
                ),
                "targeted": figures.targeted,
                "cost": cost_text(
                    draft, targeted=figures.targeted, estimate=figures.cost
                ),
                "duration": duration_text(
                    targeted=figures.targeted,
                    rate=draft.max_send_rate,
                    minutes=figures.duration_minutes,
                ),
                "channels": f"{draft.channels.label} — {channels_description(draft)}",
                "sends_sms": draft.sends_sms,
                "sends_viber": draft.sends_viber,
                "sms_text": figures.sms_text,
                "sms_length": figures.sms_length,
                "sms_problems": figures.sms_problems,
                "sms_blank": figures.sms_blank,
                "contact": contact_label(
                    figures.contact, show_contacts=show_contacts, position=1
                ),
            }
        )

    def preview_view(self, request, campaign_id):
        campaign = self.page_object(
            campaign_id, allowed=self.has_view_permission(request)
        )
        picker = preview_picker(
            request.GET,
            campaign=campaign,
            show_contacts=request.user.has_perm("campaigns.view_contact"),
        )
        preview = selectors.campaign_preview(
            campaign=campaign, contact_id=picker["contact_id"]
        )
        position = (
            selectors.campaign_contact_position(
                campaign=campaign, contact=preview.contact
            )
            if preview.contact
            else None
        )
        return self.page_response(
            request,
            "admin/campaigns/campaign/preview.html",
            title=f"Preview of “{campaign}”",
            original=campaign,
            campaign=campaign,
            preview=preview,
            **picker,
            contact_position=position,
            contact_label=contact_label(
                preview.contact,
                show_contacts=picker["show_contacts"],
                position=position,
            ),
            targeted=selectors.campaign_audience_summary(campaign=campaign)["targeted"],
            channels_description=channels_description(campaign),
        )

    # --- rows of the steps ---------------------------------------------------

    @admin.display(description="Image preview")
    def image_preview(self, obj):
        thumbnail = image_thumbnail(obj.image, size="medium") if obj.image_id else ""
        return live("image", thumbnail or "Choose an image to see it here.")

    @admin.display(description="Recipients targeted")
    def audience_summary(self, obj):
        if not obj.pk:
            return live("recipients", "Choose one or more audiences.")
        summary = selectors.campaign_audience_summary(campaign=obj)
        return live("recipients", recipients_text(**summary))

    @admin.display(description="Length")
    def sms_length(self, obj):
        # The live counter (sms_counter.js) rewrites this row as the text changes.
        return format_html(
            '<span data-sms-length id="sms-length">{}</span>',
            sms_length_summary(obj.sms_text or ""),
        )

    @admin.display(description="Preview")
    def review_phone(self, obj):
        """The message as a phone shows it, for the first targeted contact
        (as saved; campaign_live.js follows the form as it changes)."""
        sms_text = obj.sms_text or ""
        if obj.pk:
            sms_text = selectors.campaign_preview(campaign=obj).sms_text or sms_text
        return format_html(
            '<div class="phones review-phones">'
            '<section class="phone" data-live-show="sends_viber"{}>'
            '<header class="phone-header viber">Viber</header>'
            '<div class="phone-screen"><div class="bubble viber-bubble">{}</div>'
            "</div></section>"
            '<section class="phone" data-live-show="sends_sms"{}>'
            '<header class="phone-header sms">SMS</header>'
            '<div class="phone-screen"><div class="bubble sms-bubble">{}</div>'
            '<p class="phone-meta">{}</p><ul class="errorlist" '
            'data-live="sms_problems"></ul></div></section></div>'
            '<p class="preview-note">Personalised for {}.</p>',
            "" if obj.sends_viber else " hidden",
            live("image", image_thumbnail(obj.image) if obj.image_id else "—"),
            "" if obj.sends_sms else " hidden",
            live("sms_text", sms_text),
            live("sms_length", sms_length_summary(sms_text)),
            live("contact", "the first targeted contact"),
        )

    @admin.display(description="What a launch would do")
    def review_figures(self, obj):
        """Recipients, cost, duration, start and quiet hours, in one list."""
        figures = self._saved_figures(obj)
        start = (
            starts_text(obj.scheduled_at)
            if obj.scheduled_at
            else "Starts when launched."
        )
        return format_html(
            '<ul class="review-figures" id="review-figures">'
            "<li>{}</li><li>{}</li><li>{}</li><li>{}</li><li>{}</li></ul>",
            live("recipients", figures["recipients"]),
            live("cost", figures["cost"]),
            live("duration", figures["duration"]),
            start,
            quiet_hours_text(obj),
        )

    def _saved_figures(self, obj) -> dict[str, str]:
        if not obj.pk:
            waiting = "Shown once the earlier steps are filled in."
            return {"recipients": waiting, "cost": waiting, "duration": waiting}
        estimate = selectors.campaign_launch_estimate(campaign=obj)
        cost = selectors.campaign_cost_estimate(
            campaign=obj, targeted=estimate.targeted
        )
        return {
            "recipients": recipients_text(
                contacts=estimate.contacts,
                opted_out=estimate.opted_out,
                targeted=estimate.targeted,
            ),
            "cost": cost_text(obj, targeted=estimate.targeted, estimate=cost),
            "duration": duration_text(
                targeted=estimate.targeted,
                rate=obj.max_send_rate,
                minutes=estimate.duration_minutes,
            ),
        }

    @admin.display(description="Test send")
    def test_send_panel(self, obj):
        """Test numbers and a button sending the saved campaign to them (the
        button posts to the test-send page; the rest of the form is ignored)."""
        if not obj.pk:
            return "Save the campaign to send it to a few test phones."
        if obj.status not in (*Campaign.EDITABLE_STATUSES, Campaign.Status.PAUSED):
            return "—"
        return format_html(
            '<div class="test-send-panel"><label for="test-phones">Send the saved '
            "campaign now to (up to 5 numbers, one per line or separated by "
            'commas)</label><textarea name="phones" id="test-phones" rows="2" '
            'cols="40"></textarea><button type="submit" class="button" '
            'formaction="{}" formnovalidate id="test-send-button">Send test'
            "</button></div>",
            reverse("admin:campaigns_campaign_test_send", args=[obj.pk]),
        )
