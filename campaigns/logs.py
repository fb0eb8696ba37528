"""Logs and error reports that never show a secret.

Two layers, because names alone miss things: what Django hides by name
(settings and request headers such as Authorization), plus the actual values
of our secrets — the Telesign API keys, SECRET_KEY, the database password —
wherever they appear: in a message, an exception's text, a traceback's
local variables or a request body.
"""

import json
import logging
import re
from datetime import UTC, datetime

from django.conf import settings
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from .telesign.redaction import api_key_values, redact_credentials


def secret_values() -> list[str]:
    """Every configured secret: the Telesign API keys (and the Basic tokens
    carrying them), SECRET_KEY, the database passwords."""
    api_keys = [
        getattr(settings, "TELESIGN_API_KEY", ""),
        *getattr(settings, "TELESIGN_CALLBACK_API_KEYS", []),
    ]
    customer_id = getattr(settings, "TELESIGN_CUSTOMER_ID", "")
    values = [
        settings.SECRET_KEY,
        *api_key_values(customer_id, api_keys),
        *(db.get("PASSWORD", "") for db in settings.DATABASES.values()),
    ]
    return [v for v in values if v]


def redact(text: str) -> str:
    """`text` with every secret value and credential replaced by [redacted]."""
    return redact_credentials(text, secret_values())


class RedactingFormatter(logging.Formatter):
    """Plain lines (`time level logger message`), secrets removed — including
    from tracebacks, which the formatter writes."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; secrets removed."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        for key in ("status_code", "campaign_id", "worker"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, hiding more names.

    Django hides settings and request headers by name, and a view's variables
    only where marked `@sensitive_variables`; this also hides any traceback
    variable whose name says it holds a secret (`api_key`, `signature` …).
    """

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|"
        "PRIVATE|DATABASE_URL|DSN|NONCE",
        flags=re.IGNORECASE,
    )

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (
                name,
                self.cleansed_substitute
                if self.hidden_settings.search(name)
                else value,
            )
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


class RedactingExceptionReporter(ExceptionReporter):
    """Error reports (the 500 page in DEBUG, admin e-mails) with every secret
    value removed from the finished text, wherever it had got to."""

    def get_traceback_html(self):
        return redact(str(super().get_traceback_html()))

    def get_traceback_text(self):
        return redact(str(super().get_traceback_text()))
