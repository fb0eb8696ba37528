"""Which contact fields an SMS text may use for the chosen audiences, and what
is wrong with a text: the check the campaign form, the preview, the test
send and the launch share."""

from collections.abc import Iterable

from django.db.models import QuerySet

from ..db.attribute_keys import audience_attribute_keys
from ..models import Audience, Campaign, Contact
from ..sms import BUILT_IN_FIELDS, template_problems


def _audience_ids(audiences: QuerySet[Audience] | Iterable[Audience]) -> list[int]:
    return [audience.pk for audience in audiences]


def audiences_fields(*, audiences) -> list[str]:
    """The fields a text may use for these audiences' contacts: the built-in
    ones, then every attribute some contact has, alphabetically."""
    keys = audience_attribute_keys(audience_ids=_audience_ids(audiences))
    return [*BUILT_IN_FIELDS, *sorted(keys - set(BUILT_IN_FIELDS))]


def audiences_have_field(*, audiences, field: str) -> bool:
    """True if the field is built in or some contact of the audiences has it."""
    if field in BUILT_IN_FIELDS:
        return True
    return Contact.objects.filter(
        audiences__in=_audience_ids(audiences), attributes__has_key=field
    ).exists()


def sms_text_problems(*, text: str, audiences) -> list[str]:
    """What is wrong with `text` as the SMS for these audiences (or nothing):
    fields none of their contacts has, `{{field}}`, broken placeholders."""
    audiences = list(audiences)
    return template_problems(
        text,
        known=lambda field: audiences_have_field(audiences=audiences, field=field),
        available=lambda: audiences_fields(audiences=audiences),
    )


def campaign_sms_problems(*, campaign: Campaign) -> list[str]:
    """What is wrong with the campaign's SMS text, if it sends one."""
    if not campaign.sends_sms:
        return []
    return sms_text_problems(text=campaign.sms_text, audiences=campaign.audiences.all())
