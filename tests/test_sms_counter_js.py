"""The live SMS counter (sms_counter.js, run by node) says what the server's
one source of truth (campaigns.sms.sms_length_summary) says, on the same table
of texts: characters typed, segments billed, GSM-7 extension characters as
two, UCS-2 for any character outside GSM-7, emoji as two UTF-16 units."""

import json
import shutil
import subprocess

import pytest

from campaigns.sms import sms_length_summary, sms_segments

from .workers import ROOT

COUNTER_JS = ROOT / "campaigns" / "static" / "campaigns" / "sms_counter.js"

CASES = [
    "",
    "Hi",
    "a" * 160,
    "a" * 161,
    "a" * 307,
    "Price: 5€ {first_name}",
    "{ } [ ] ~ | \\ ^ €",
    "a" * 159 + "{",
    "Hi {{CODE}}",
    "Привет" + "a" * 64,
    "Привет" + "a" * 65,
    "😀" * 35,
    "😀" * 36,
    "Line one\nline two",
    "Cześć {first_name|there}!",
    "[1] [2] [3] ~ | ^ €",
]


def js_summaries(texts: list[str]) -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run the live counter's script")
    script = (
        f"const counter = require({json.dumps(str(COUNTER_JS))});"
        "let input = '';"
        "process.stdin.on('data', chunk => input += chunk);"
        "process.stdin.on('end', () => process.stdout.write("
        "JSON.stringify(JSON.parse(input).map(counter.summary))));"
    )
    done = subprocess.run(
        [node, "-e", script],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(done.stdout)


def test_the_live_counter_says_what_the_server_says():
    assert js_summaries(CASES) == [sms_length_summary(text) for text in CASES]


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("", "0 characters · 0 segments"),
        ("Hi", "2 characters · 1 segment · GSM-7, 2 of 160"),
        (
            "{ } [ ] ~ | \\ ^ €",
            "17 characters · 1 segment · GSM-7, 26 of 160 (“{”, “}”, “[”, “]”, "
            "“~” … count as two)",
        ),
        (
            "a" * 161,
            "161 characters · 2 segments · GSM-7, 161 of 306 (153 per segment "
            "once split)",
        ),
        (
            "😀",
            "1 character · 1 segment · UCS-2 because of “😀”, 2 of 70 "
            "(“😀” counts as two)",
        ),
        (
            "Hi {first_name}",
            "15 characters · 1 segment · GSM-7, 17 of 160 (“{”, “}” count as two) · "
            "before personalisation",
        ),
    ],
)
def test_the_length_says_characters_only_for_characters(text, summary):
    assert sms_length_summary(text) == summary


def test_extension_characters_take_two_of_a_segments_160():
    assert sms_segments("a" * 159 + "€").segments == 2
    assert sms_segments("a" * 158 + "€").segments == 1
