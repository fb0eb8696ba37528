"""Benchmark-only settings: the app as configured, plus a bare DRF view."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
