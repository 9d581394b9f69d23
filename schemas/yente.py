"""yente's matching API: query arguments, request and response bodies.

The shapes follow yente's pydantic models (yente/data/common.py); the JSON
schemas derived from those models are in schemas/external/yente/ and the tests
validate the answers against them. Unlike the rest of this API, /match ignores
query parameters and body fields it does not know, as yente does (nomenklatura's
YenteEnricher sends `fuzzy`, for instance).
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import Pattern, WholeNumber

TS_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}(:[0-9]{2}(:[0-9]{2})?)?)?"


def _doc(text: str) -> dict[str, str]:
    return {"description": text}


def _names(text: str, most: int = 100) -> fields.List:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        validate=validate.Length(max=most),
        metadata=_doc(text),
    )


class MatchArgs(Schema):
    """Query parameters of POST /match/{dataset} (unknown ones are ignored)."""

    class Meta:
        unknown = EXCLUDE

    threshold = fields.Float(
        validate=validate.Range(min=0, max=1),
        metadata=_doc("A score at or above it is a match (default: the service's threshold)."),
    )
    cutoff = fields.Float(
        validate=validate.Range(min=0, max=1),
        metadata=_doc("Also return candidates down to this score, with match=false."),
    )
    limit = WholeNumber(
        load_default=5,
        validate=validate.Range(min=1, max=500),
        metadata=_doc("Results per query."),
    )
    algorithm = fields.String(
        load_default="best",
        validate=validate.Length(min=1, max=50),
        metadata=_doc("registry-v1; yente's names (best, logic-v2 ...) are answered by it."),
    )
    include_dataset = _names("Only entities in one of these datasets.")
    exclude_dataset = _names("Leave these datasets out of the scope.")
    exclude_schema = _names("Leave entities of these schemata out (Person, Company ...).")
    exclude_entity_ids = _names("Leave these entities out (entity or record ids).", most=50)
    topics = _names("Only entities with one of these topics (sanction).")
    changed_since = fields.String(
        validate=Pattern(TS_PATTERN, error="Use YYYY-MM-DD or YYYY-MM-DDTHH[:MM[:SS]]."),
        metadata=_doc("Only entities changed since then."),
    )


class EntityExampleSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(allow_none=True, metadata=_doc("Your id for the example, echoed."))
    schema = fields.String(
        required=True,
        metadata=_doc("Person, Company, Organization, LegalEntity, Vessel, Airplane or Thing."),
    )
    properties = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        required=True,
        metadata=_doc(
            "FollowTheMoney properties, each a value or a list of them: name, alias, "
            "firstName, lastName, birthDate, nationality, citizenship, country, "
            "jurisdiction, idNumber, passportNumber, registrationNumber, taxNumber, "
            "imoNumber ..."
        ),
    )


class EntityMatchQuerySchema(Schema):
    """yente's EntityMatchQuery."""

    class Meta:
        unknown = EXCLUDE

    queries = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(EntityExampleSchema),
        required=True,
        metadata=_doc("Examples by a key of your choice; the answer uses the same keys."),
    )
    weights = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        metadata=_doc("Accepted for compatibility; this matcher's weights are fixed."),
    )
    config = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        metadata=_doc("Algorithm settings: this matcher has none (any key is refused)."),
    )


class EntityResponseSchema(Schema):
    """yente's EntityResponse: a FollowTheMoney entity."""

    id = fields.String(required=True)
    caption = fields.String(required=True)
    schema = fields.String(required=True)
    properties = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw()))
    datasets = fields.List(fields.String())
    referents = fields.List(fields.String(), metadata=_doc("Records merged into the entity."))
    target = fields.Boolean()
    first_seen = fields.String(allow_none=True)
    last_seen = fields.String(allow_none=True)
    last_change = fields.String(allow_none=True)


class FeatureResultSchema(Schema):
    score = fields.Float()
    detail = fields.String(allow_none=True)
    query = fields.String(allow_none=True)
    candidate = fields.String(allow_none=True)


class ScoredEntityResponseSchema(EntityResponseSchema):
    score = fields.Float()
    match = fields.Boolean()
    features = fields.Dict(keys=fields.String(), values=fields.Float())
    explanations = fields.Dict(keys=fields.String(), values=fields.Nested(FeatureResultSchema))
    matched_name = fields.String(metadata=_doc("The listed name or alias that matched."))
    name_kind = fields.String()
    summary = fields.String(metadata=_doc("Why, in one sentence (as /screen)."))
    explanation = fields.Dict(metadata=_doc("The explanation /screen gives."))


class TotalSchema(Schema):
    value = fields.Integer()
    relation = fields.String()


class EntityMatchesSchema(Schema):
    status = fields.Integer()
    results = fields.List(fields.Nested(ScoredEntityResponseSchema))
    total = fields.Nested(TotalSchema, metadata=_doc("Results that are matches."))
    query = fields.Dict(metadata=_doc("The example as it was used."))


class EntityMatchResponseSchema(Schema):
    responses = fields.Dict(keys=fields.String(), values=fields.Nested(EntityMatchesSchema))
    limit = fields.Integer()


class DatasetModelSchema(Schema):
    name = fields.String()
    title = fields.String()
    summary = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)
    entity_count = fields.Integer(allow_none=True)
    thing_count = fields.Integer(allow_none=True)
    version = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    resources = fields.List(fields.Dict())
    children = fields.List(fields.String())
    deprecated = fields.Boolean()
    load_ = fields.Boolean(allow_none=True, data_key="load")
    entities_url = fields.String(allow_none=True)
    namespace = fields.Boolean()
    index_version = fields.String(allow_none=True)
    index_current = fields.Boolean()


class DataCatalogSchema(Schema):
    datasets = fields.List(fields.Nested(DatasetModelSchema))
    current = fields.List(fields.String())
    outdated = fields.List(fields.String())
    index_stale = fields.Boolean()


class FeatureDocSchema(Schema):
    description = fields.String(allow_none=True)
    coefficient = fields.Float()
    url = fields.String()


class AlgorithmDocsSchema(Schema):
    name = fields.String()
    description = fields.String(allow_none=True)
    config = fields.Dict()
    features = fields.Dict(keys=fields.String(), values=fields.Nested(FeatureDocSchema))


class AlgorithmSchema(AlgorithmDocsSchema):
    docs = fields.Nested(AlgorithmDocsSchema)


class AlgorithmResponseSchema(Schema):
    algorithms = fields.List(fields.Nested(AlgorithmSchema))
    default = fields.String()
    best = fields.String()


def list_args(args: dict[str, Any], *names: str) -> dict[str, tuple[str, ...]]:
    """The list parameters of loaded MatchArgs as tuples (absent: empty)."""
    return {name: tuple(args.get(name) or ()) for name in names}
