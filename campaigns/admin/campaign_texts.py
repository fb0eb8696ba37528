"""How the campaign pages say things: recipients, cost, duration, start,
quiet hours, who waits for their window, channels and the contact shown. The
pages rendered by the server and the editor's live figures use the same
sentences."""

from django.utils import timezone
from django.utils.formats import number_format

from ..charts import percent
from ..models import Campaign, Recipient


def recipients_text(*, contacts: int, opted_out: int, targeted: int) -> str:
    if not contacts:
        return "No contacts yet: choose one or more audiences."
    return (
        f"{number_format(targeted, force_grouping=True)} recipient(s) would be "
        f"messaged: {number_format(contacts, force_grouping=True)} contact(s) in "
        f"the audiences, {number_format(opted_out, force_grouping=True)} opted "
        "out and excluded."
    )


def cost_text(campaign: Campaign, *, targeted: int, estimate: dict | None) -> str:
    """The estimated cost of messaging `targeted` recipients, in words."""
    if estimate is None:
        return "No prices are configured, so no cost is estimated."
    total = f"{estimate['total']} {estimate['currency']} for {targeted} recipient(s)"
    if not campaign.sends_viber:
        return f"{total}: an SMS to each ({campaign.channels.label})."
    if not campaign.sends_sms:
        return f"{total}: Viber {estimate['viber']} ({campaign.channels.label})."
    basis = (
        "measured on finished campaigns"
        if estimate["fallback_share_measured"]
        else "assumed"
    )
    return (
        f"{total}: Viber {estimate['viber']}, SMS {estimate['sms']} at a "
        f"{percent(estimate['fallback_share'])} fallback rate ({basis}); at most "
        f"{estimate['worst']} if every recipient falls back."
    )


def duration_text(*, targeted: int, rate: int, minutes: int) -> str:
    return f"At most {rate} message(s) per second: about {minutes} minute(s)."


def starts_text(moment) -> str:
    """ "Starts 3 Dec 09:00 Europe/Kyiv": in the time zone the page is shown in,
    by its name."""
    local = timezone.localtime(moment)
    return f"Starts {local.day} {local:%b %H:%M} {timezone.get_current_timezone_name()}"


def quiet_hours_text(campaign: Campaign) -> str:
    """The send window said once, as the quiet hours it leaves."""
    if not campaign.has_send_window:
        return "No quiet hours: recipients are messaged at any hour."
    return (
        f"Quiet hours: nothing is sent between "
        f"{campaign.send_window_end:%H:%M} and {campaign.send_window_start:%H:%M} "
        "in each recipient's local time."
    )


def waiting_text(*, waiting: int, campaign: Campaign) -> str:
    return (
        f"{number_format(waiting, force_grouping=True)} waiting for "
        f"{campaign.send_window_start:%H:%M} local time in their zone."
    )


def contact_label(contact, *, show_contacts: bool, position: int | None) -> str:
    """A contact as the preview names it: name and number for someone allowed
    to see contacts, "Contact 12" (its place among the targeted) otherwise."""
    if contact is None:
        return ""
    if show_contacts:
        return str(contact)
    return f"Contact {position}" if position else "Contact"


def channels_description(campaign: Campaign) -> str:
    """What a campaign's channels mean for its recipients, after their label."""
    if not campaign.sends_viber:
        return "every recipient gets the SMS; Viber is not tried."
    if campaign.sends_sms:
        return (
            f"an SMS follows if Viber has not delivered within "
            f"{campaign.fallback_time} s."
        )
    return "recipients without Viber will not be reached."


def progress_counts(progress: dict[str, int], *, waiting: int) -> list[tuple[str, int]]:
    """A campaign's recipients by where they are, in a marketer's words: those
    a worker holds but has not sent count as waiting (a claim is the engine's
    business), those waiting for their quiet hours to end are told apart, and
    "on the wire" are the requests leaving right now."""
    RS = Recipient.SendStatus
    queued = progress.get(RS.QUEUED, 0) + progress.get(RS.CLAIMED, 0) - waiting
    rows = [
        ("Waiting to be sent", queued),
        ("Waiting for their quiet hours to end", waiting),
        ("On the wire to Telesign", progress.get(RS.IN_FLIGHT, 0)),
        *(
            (status.label, progress.get(status, 0))
            for status in RS
            if status not in (RS.QUEUED, RS.CLAIMED, RS.IN_FLIGHT)
        ),
    ]
    return [(label, count) for label, count in rows if count > 0]
