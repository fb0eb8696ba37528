"""The SMS template: placeholders, fallbacks for blank values, literal braces,
and what is refused before anything is sent."""

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from campaigns.sms import (
    BUILT_IN_FIELDS,
    contact_fields_changed,
    is_blank,
    personalise,
    template_escape,
    template_fields,
    template_problems,
)


def contact(name="Ana Lima", phone="+447911123456", **attributes):
    return SimpleNamespace(name=name, phone=phone, attributes=attributes)


def problems(text, *fields):
    have = [*BUILT_IN_FIELDS, *fields]
    return template_problems(text, known=have.__contains__, available=lambda: have)


def test_a_fallback_fills_a_missing_or_blank_value_and_only_then():
    text = "Hi {first_name|there}, {city|see you soon}!"
    assert personalise(text, contact(city="Porto")) == "Hi Ana, Porto!"
    assert personalise(text, contact(name="", city="  ")) == "Hi there, see you soon!"
    assert personalise(text, contact(name="")) == "Hi there, see you soon!"
    assert personalise(text, None) == "Hi there, see you soon!"
    # An empty fallback says "blank is fine here" on purpose.
    assert personalise("Hi{middle| }{city|}!", contact()) == "Hi !"


def test_double_braces_are_literal_braces_and_other_braces_stay_as_written():
    assert personalise("Code {{SAVE20}} for {first_name}", contact()) == (
        "Code {SAVE20} for Ana"
    )
    assert personalise("{ } {1} {{{first_name}}}", contact()) == "{ } {1} {Ana}"
    assert template_fields("{{city}} {a|x} {a} {b}") == ["a", "b"]


@given(st.text())
def test_any_text_escaped_is_sent_exactly_as_written(text):
    assert personalise(template_escape(text), contact()) == text
    assert template_fields(template_escape(text)) == []
    assert problems(template_escape(text)) == [] or "{" in text


fallbacks = st.text(alphabet=st.characters(exclude_characters="{}"))


@given(value=st.one_of(st.none(), st.text()), fallback=fallbacks)
def test_the_fallback_is_used_exactly_when_the_value_is_blank(value, fallback):
    attributes = {} if value is None else {"nickname": value}
    filled = personalise("{nickname|" + fallback + "}", contact(**attributes))
    assert filled == (fallback if is_blank(value) else value)


def test_unknown_fields_are_refused_listing_the_fields_there_are():
    [problem] = problems("Hi {firstname}, {nickname} from {city}", "city", "plan")
    assert "{firstname}, {nickname}" in problem
    assert "name, first_name, last_name, phone, city, plan" in problem
    assert "Did you mean {first_name} for {firstname}?" in problem
    assert problems("Hi {first_name|there} from {city}", "city") == []


def test_placeholders_written_wrongly_are_refused_not_sent_as_written():
    [mustache] = problems("Hi {{first_name}}, use {{SAVE20}}")
    assert "{{first_name}} sends “{first_name}”" in mustache
    assert "SAVE20" not in mustache  # a code in braces, written as the escape says
    [broken] = problems("Hi {first name}, {city|{name}}, {first_name")
    assert "“{first name}”" in broken and "“{first_name”" in broken
    assert "“{city|”" in broken


def test_changed_fields_are_those_a_text_would_fill_differently():
    before = contact(name="Ana Lima", city="Porto", plan="")
    after = contact(name="Ana Silva", city="Porto", vip="yes")
    assert contact_fields_changed(before, after) == {"name", "last_name", "vip"}
    assert contact_fields_changed(before, before) == set()
