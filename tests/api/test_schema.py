"""/api/schema/: a page a browser shows, the OpenAPI file for tools; both
describe delivery reports and the replies people send."""

import json

import pytest
import yaml

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

pytestmark = pytest.mark.django_db


def test_a_browser_gets_a_page_not_a_download(client):
    response = client.get("/api/schema/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "attachment" not in response.get("Content-Disposition", "")
    page = response.content.decode()
    assert "/api/telesign/callbacks/" in page
    for shape in ("DeliveryCallback", "ViberReply", "SmsReply"):
        assert f'id="shape-{shape}"' in page
    assert "<code>user_response.mo_message</code>" in page
    assert "<code>content.text</code>" in page
    assert 'href="/api/schema/openapi.yaml"' in page


def test_a_tool_still_gets_the_yaml_file_at_the_same_address(client):
    # What schemathesis and most HTTP clients send.
    response = client.get("/api/schema/", HTTP_ACCEPT="*/*")

    assert response.status_code == 200
    assert "openapi" in response["Content-Type"]
    schema = yaml.safe_load(response.content)
    assert "/api/telesign/callbacks/" in schema["paths"]


def test_the_schema_describes_replies_as_well_as_delivery_reports(client):
    schema = json.loads(client.get("/api/schema/openapi.json").content)

    body = schema["paths"]["/api/telesign/callbacks/"]["post"]["requestBody"]
    shape = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    variants = {
        ref["$ref"].rsplit("/", 1)[-1]
        for ref in schema["components"]["schemas"][shape]["oneOf"]
    }
    assert variants == {"DeliveryCallback", "ViberReply", "SmsReply"}
    sms = schema["components"]["schemas"]["SmsUserResponse"]
    assert {"phone_number", "mo_message"} <= set(sms["required"])
    assert client.get("/api/schema/openapi.yaml").status_code == 200
