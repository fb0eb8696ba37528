"""Telesign's own examples, shared by the client, signing and sandbox tests."""

from pathlib import Path

from campaigns.telesign import OmnichannelMessage

FIXTURES = Path(__file__).parent.parent / "fixtures" / "telesign"
# Telesign's documented example key (the dashes are dropped by base64 decoding).
EXAMPLE_KEY = (
    "EXAMPLE----TE8sTgg45yusumoN6BYsBVkh+yRJ5czgsnCehZaOYldPJdmFh6NeX8kunZ2zU1YWa"
    "Uw/0wV6xfw=="
)

# The request of Telesign's Viber image guide, with an external_id.
SEED_MESSAGE = OmnichannelMessage(
    phone="+15558675309",
    external_id="c1-1",
    image_url="https://s3.amazonaws.com/viatu-mktg/bogo_coupon_52359.jpg",
    viber_template="image",
    fallback_time=600,
    sms_text="Buy one get one free! Use code 'BOGO' at checkout on viatushop.com.",
    message_type="MKT",
)
