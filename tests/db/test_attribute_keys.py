"""The database lists the same attribute names as reading every contact."""

import pytest

from campaigns.db.attribute_keys import audience_attribute_keys
from campaigns.models import Contact

from ..factories import make_audience, make_contact

pytestmark = pytest.mark.django_db


def test_the_statement_lists_the_keys_python_would_find():
    vips = make_audience(
        contacts=[
            make_contact(attributes={"city": "Porto", "plan": None}),
            make_contact(attributes={"city": "", "tier": 2, "ünï code": "x"}),
            make_contact(attributes={}),
        ]
    )
    others = make_audience(contacts=[make_contact(attributes={"secret": "s"})])
    # Not an object: the admin form and the import never write one, but an
    # old row or a shell might; it has no fields and breaks nothing.
    odd = make_contact()
    Contact.objects.filter(pk=odd.pk).update(attributes=["a", "b"])
    vips.contacts.add(odd)

    expected = set()
    for contact in Contact.objects.filter(audiences=vips):
        if isinstance(contact.attributes, dict):
            expected |= set(contact.attributes)

    assert audience_attribute_keys(audience_ids=[vips.pk]) == expected
    assert expected == {"city", "plan", "tier", "ünï code"}
    assert audience_attribute_keys(audience_ids=[vips.pk, others.pk]) == {
        *expected,
        "secret",
    }
    assert audience_attribute_keys(audience_ids=[]) == set()
