"""The W3C Entity Reconciliation API (0.2): arguments and answers. The JSON schemas
the specification publishes are in schemas/external/reconciliation-0.2/ and the
tests validate the answers against them. As a protocol defined elsewhere, these
endpoints ignore query parameters they do not know (OpenRefine's suggest widget
adds its own)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import WholeNumber


def _doc(text: str) -> dict[str, str]:
    return {"description": text}


class ReconcileArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    queries = fields.String(
        validate=validate.Length(min=1, max=5_000_000),
        metadata=_doc(
            "A JSON object of queries {key: {query, type, limit, properties: [{pid, v}]}}; "
            "without it, the service manifest."
        ),
    )


class SuggestArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    prefix = fields.String(
        load_default="", validate=validate.Length(max=200), metadata=_doc("What was typed.")
    )
    limit = WholeNumber(load_default=10, validate=validate.Range(min=1, max=50))


class PreviewArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1, max=300))


class TypeSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()


class ServiceSchema(Schema):
    service_url = fields.String()
    service_path = fields.String()


class SuggestServicesSchema(Schema):
    entity = fields.Nested(ServiceSchema)
    type = fields.Nested(ServiceSchema)
    property = fields.Nested(ServiceSchema)


class UrlTemplateSchema(Schema):
    url = fields.String(required=True)


class PreviewServiceSchema(UrlTemplateSchema):
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)


class ManifestSchema(Schema):
    versions = fields.List(fields.String(), required=True)
    name = fields.String(required=True)
    identifierSpace = fields.String(required=True)
    schemaSpace = fields.String(required=True)
    documentation = fields.String()
    serviceVersion = fields.String()
    view = fields.Nested(UrlTemplateSchema)
    preview = fields.Nested(PreviewServiceSchema)
    suggest = fields.Nested(SuggestServicesSchema)
    defaultTypes = fields.List(fields.Nested(TypeSchema))
    batchSize = fields.Integer()


class FeatureSchema(Schema):
    id = fields.String()
    value = fields.Float()


class CandidateSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    score = fields.Float(required=True)
    match = fields.Boolean()
    type = fields.List(fields.Nested(TypeSchema))
    features = fields.List(fields.Nested(FeatureSchema))


class ReconcileResultSchema(Schema):
    result = fields.List(fields.Nested(CandidateSchema), required=True)


class SuggestEntitySchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    notable = fields.List(fields.Nested(TypeSchema))


class SuggestEntitiesSchema(Schema):
    result = fields.List(fields.Nested(SuggestEntitySchema), required=True)


class SuggestTypesSchema(Schema):
    result = fields.List(fields.Nested(TypeSchema), required=True)


class SuggestPropertiesSchema(Schema):
    result = fields.List(fields.Nested(TypeSchema), required=True)
