"""Writes the local `.env` that `make run` uses on a fresh machine.

It turns on DEBUG for the development server and stores a random SECRET_KEY so
logins survive restarts. Nothing here is used in production.
"""

import secrets
from pathlib import Path

path = Path(__file__).resolve().parent.parent / ".env"
if not path.exists():
    path.write_text(
        "# Written by `make run` for local use. See .env.example for every setting.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        "# Example prices so the demo report shows costs; put your contract's.\n"
        "PRICE_VIBER_MESSAGE=0.004\n"
        "PRICE_SMS_SEGMENT=0.05\n"
    )
    print(f"Wrote {path.name} for local development.")
