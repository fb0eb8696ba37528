"""Audience CSV imports: upload, background check, confirm, background import."""

from .check import audience_import_check_run, audience_import_upload
from .run import (
    audience_import_confirm,
    audience_import_discard,
    audience_import_failed,
    audience_import_run,
    audience_imports_resume_stalled,
)

__all__ = [
    "audience_import_check_run",
    "audience_import_confirm",
    "audience_import_discard",
    "audience_import_failed",
    "audience_import_run",
    "audience_import_upload",
    "audience_imports_resume_stalled",
]
