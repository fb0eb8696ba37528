"""The published OpenAPI schema: a page to read in a browser at /api/schema/,
and the machine-readable file for tools.

A browser (whose Accept names text/html) gets the page; any other client
(schemathesis, code generators, curl) gets the YAML file, as before, and
`/api/schema/openapi.yaml` and `/api/schema/openapi.json` always give the file.
"""

from dataclasses import dataclass

from django.template.response import TemplateResponse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Field:
    name: str  # dotted for nested fields: "status.code", "channel_status[]"
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class Shape:
    name: str
    description: str
    fields: list[Field]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    bodies: list[Shape]
    responses: list[tuple[str, str, str]]  # status, description, shape name


def wants_page(request) -> bool:
    """A browser asking for a page, not a tool asking for the file."""
    return "text/html" in request.headers.get("Accept", "") and not request.GET.get(
        "format"
    )


def schema_view(request):
    if not wants_page(request):
        return SpectacularAPIView.as_view()(request)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return TemplateResponse(
        request,
        "api/schema.html",
        {"info": schema["info"], "operations": schema_operations(schema)},
    )


def schema_operations(schema: dict) -> list[Operation]:
    """Each path and method of `schema`, with its bodies and answers in words."""
    components = schema.get("components", {}).get("schemas", {})
    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method in METHODS:
            operation = methods.get(method)
            if operation is not None:
                operations.append(_operation(method, path, operation, components))
    return operations


def _operation(method: str, path: str, operation: dict, components: dict):
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema", {})
    # A body that may take several shapes is a named component with a oneOf.
    variants = components.get(_ref_name(body.get("$ref", "")), body).get(
        "oneOf", [body] if body else []
    )
    responses = [
        (status, answer.get("description", ""), _answer_shape(answer))
        for status, answer in operation.get("responses", {}).items()
    ]
    return Operation(
        method=method.upper(),
        path=path,
        summary=operation.get("summary", ""),
        description=operation.get("description", ""),
        bodies=[_shape(variant, components) for variant in variants],
        responses=responses,
    )


def _answer_shape(answer: dict) -> str:
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    return _ref_name(schema.get("$ref", ""))


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _shape(schema: dict, components: dict) -> Shape:
    name = _ref_name(schema.get("$ref", "")) or "Body"
    resolved = components.get(name, schema)
    return Shape(
        name=name,
        description=resolved.get("description", ""),
        fields=schema_fields(resolved, components),
    )


def schema_fields(schema: dict, components: dict, prefix: str = "") -> list[Field]:
    """The fields of an object schema, nested objects flattened with dots."""
    fields = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        prop = components.get(_ref_name(prop.get("$ref", "")), prop)
        dotted = f"{prefix}{name}"
        kind = prop.get("type", "object")
        if kind == "array":
            item = prop.get("items", {})
            item = components.get(_ref_name(item.get("$ref", "")), item)
            dotted += "[]"
            kind = f"list of {item.get('type', 'object')}"
        fields.append(
            Field(dotted, kind, name in required, prop.get("description", ""))
        )
        if prop.get("properties"):
            fields += schema_fields(prop, components, prefix=f"{dotted}.")
    return fields
