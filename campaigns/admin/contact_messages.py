"""A contact's message history, as its change page shows it: every campaign
that messaged them, on which channel, with what outcome, and whether it was
read. Each row links to the message's own timeline."""

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from .. import selectors
from ..models import Contact, Recipient


def contact_messages_table(contact: Contact) -> str:
    history = selectors.contact_messages(contact=contact)
    if not history.messages:
        return "No campaign has messaged this contact yet."
    table = format_html(
        '<table class="contact-messages"><thead><tr><th>Sent</th>'
        "<th>Campaign</th><th>Channel</th><th>Outcome</th><th>Read</th>"
        "</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "{}", ((message_row(m),) for m in history.messages)),
    )
    if history.more:
        table += format_html(
            '<p class="help">The latest {} messages.</p>', len(history.messages)
        )
    return table


def message_row(message: Recipient) -> str:
    when = message.sent_at or message.created_at
    return format_html(
        '<tr><td><a href="{}">{}</a></td><td>{}{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td></tr>",
        reverse("admin:campaigns_recipient_change", args=[message.pk]),
        _local(when),
        message.campaign.name,
        " (test send)" if message.is_test else "",
        message.get_last_channel_display() or "—",
        message.get_outcome_display(),
        _local(message.read_at) if message.read_at else "—",
    )


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
