"""WORKSPACE_TIME_ZONE: read from the environment, refused at start when it
names no time zone."""

import os
import subprocess
import sys

from .workers import ROOT


def settings_time_zone(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.TIME_ZONE, settings.WORKSPACE_TIME_ZONE)",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "x",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_workspace_time_zone_is_the_one_pages_use():
    done = settings_time_zone(WORKSPACE_TIME_ZONE="Europe/Kyiv")
    assert done.stdout.split() == ["Europe/Kyiv", "Europe/Kyiv"], done.stderr


def test_a_workspace_time_zone_that_names_no_zone_is_refused():
    done = settings_time_zone(WORKSPACE_TIME_ZONE="Mars/Olympus")
    assert done.returncode != 0
    assert "WORKSPACE_TIME_ZONE='Mars/Olympus' is not a time zone name" in done.stderr
