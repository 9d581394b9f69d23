"""The fixture contract: the JSON that `registry load`, `POST /bulk` and entity writes accept.

A fixture document holds sources (documents a fact comes from), entities (with
their names, identifiers, addresses and designations) and actions (sanctions
announcements as the documents report them). Every designation and action
carries evidence: the id of a source plus the exact quote or the official row it
rests on. The same schemas serialise the API's answers, so what goes in is what
comes out.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .fields import BirthDate, Name, PartialDate, Pattern, Text, WholeNumber

ENTITY_TYPES = ("person", "company", "organisation", "vessel", "aircraft", "unknown")
NAME_KINDS = ("primary", "aka", "fka", "variation", "other_script", "weak_aka")
SOURCE_KINDS = ("news_article", "official_publication", "official_list", "dataset", "other")

# \A and \Z, never ^ and $: "$" also matches before a final newline.
ID_PATTERN = r"\A[a-z0-9][a-z0-9._:-]{0,127}\Z"
ID_MESSAGE = (
    "Use 1-128 lower-case letters, digits, '.', '_', ':' or '-', starting with a letter or digit."
)
MAX_TEXT = 20_000
MAX_ITEMS = 2_000


def _id(**kwargs: Any) -> fields.String:
    return fields.String(validate=Pattern(ID_PATTERN, error=ID_MESSAGE), **kwargs)


def _text(max_length: int = 1_000, **kwargs: Any) -> fields.String:
    return Text(validate=validate.Length(min=1, max=max_length), **kwargs)


def _name(**kwargs: Any) -> fields.String:
    return Name(validate=validate.Length(min=1, max=500), **kwargs)


def _code(**kwargs: Any) -> fields.String:
    """ISO 3166-1 alpha-2 country or a two-letter jurisdiction (US, GB, EU, UN)."""
    return fields.String(
        validate=Pattern(r"[A-Z]{2}", error="Use a two-letter upper-case code."),
        **kwargs,
    )


def _birth_dates(**kwargs: Any) -> fields.List:
    return fields.List(
        BirthDate(),
        validate=validate.Length(max=MAX_ITEMS),
        metadata={
            "description": "Dates of birth as the lists give them: YYYY-MM-DD, YYYY-MM, YYYY, "
            "or a range A/B of those ('1951 to 1953'; 'circa 1952' is 1950/1954)."
        },
        **kwargs,
    )


def _nationalities(**kwargs: Any) -> fields.List:
    return fields.List(
        _code(),
        validate=validate.Length(max=MAX_ITEMS),
        metadata={"description": "Nationalities and citizenships: ISO 3166-1 alpha-2 codes."},
        **kwargs,
    )


def _list(nested: type[Schema], **kwargs: Any) -> fields.List:
    return fields.List(fields.Nested(nested), validate=validate.Length(max=MAX_ITEMS), **kwargs)


class EvidenceSchema(Schema):
    """Where a fact comes from: a source and the words or the official row that say it."""

    source = _id(required=True, metadata={"description": "Id of the source document."})
    quote = _text(
        MAX_TEXT,
        allow_none=True,
        metadata={"description": "Exact words of the source, verbatim (checked against its text)."},
    )
    locator = _text(
        500,
        allow_none=True,
        metadata={"description": "Where in the source: a row, line, paragraph or record key."},
    )
    row = fields.Dict(
        keys=fields.String(),
        allow_none=True,
        metadata={"description": "The official record the fact rests on, as published."},
    )
    note = _text(2_000, allow_none=True)

    @validates_schema
    def _quote_or_row(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data.get("quote") and not data.get("row") and not data.get("locator"):
            raise ValidationError(
                "Evidence needs a quote, an official row or a locator.", field_name="quote"
            )


class NameSchema(Schema):
    name = _name(required=True)
    kind = fields.String(validate=validate.OneOf(NAME_KINDS), load_default="aka")
    script = fields.String(
        validate=Pattern(r"[A-Z][a-z]{3}", error="Use an ISO 15924 code, e.g. Latn."),
        allow_none=True,
        metadata={"description": "ISO 15924 script; detected from the name when omitted."},
    )
    lang = fields.String(
        validate=Pattern(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", error="Use a BCP 47 tag."),
        allow_none=True,
    )
    source = _id(allow_none=True, metadata={"description": "Id of the source giving this name."})


class IdentifierSchema(Schema):
    scheme = _text(200, required=True, metadata={"description": "e.g. uk-sanctions-list-ref"})
    value = _text(200, required=True)
    country = _code(allow_none=True)
    note = _text(1_000, allow_none=True)
    source = _id(allow_none=True)


class AddressSchema(Schema):
    full = _text(2_000, required=True)
    street = _text(1_000, allow_none=True)
    city = _text(200, allow_none=True)
    region = _text(200, allow_none=True)
    postal_code = _text(50, allow_none=True)
    country = _code(allow_none=True)
    source = _id(allow_none=True)


class DesignationSchema(Schema):
    """One listing of an entity by one authority."""

    id = _id(required=True)
    jurisdiction = _code(required=True, metadata={"description": "US, GB, EU, UN ..."})
    authority = _text(200, required=True, metadata={"description": "BIS, OFAC, FCDO ..."})
    list = _text(300, required=True, metadata={"description": "e.g. Entity List, SDN List"})
    program = _text(300, allow_none=True, metadata={"description": "Programme or regime."})
    listed_date = PartialDate(
        allow_none=True,
        metadata={"description": "YYYY-MM-DD, or YYYY-MM / YYYY when the source says no more."},
    )
    delisted_date = PartialDate(allow_none=True)
    conduct = _text(
        MAX_TEXT,
        allow_none=True,
        metadata={"description": "Alleged conduct as the source states it."},
    )
    legal_basis = _text(2_000, allow_none=True)
    reference = _text(
        500, allow_none=True, metadata={"description": "Official reference, e.g. 89 FR 14388."}
    )
    action = _id(
        allow_none=True, metadata={"description": "Id of the action that made this listing."}
    )
    evidence = fields.List(
        fields.Nested(EvidenceSchema),
        required=True,
        validate=validate.Length(
            min=1, max=100, error="Give between {min} and {max} evidence items."
        ),
    )


class EntitySchema(Schema):
    """A sanctioned (or once sanctioned) person, company, organisation, vessel or aircraft."""

    id = _id(required=True, metadata={"description": "Stable id; loads upsert by it."})
    type = fields.String(validate=validate.OneOf(ENTITY_TYPES), required=True)
    name = _name(required=True, metadata={"description": "Primary name."})
    country = _code(allow_none=True)
    names = _list(NameSchema, load_default=list)
    identifiers = _list(IdentifierSchema, load_default=list)
    addresses = _list(AddressSchema, load_default=list)
    designations = _list(DesignationSchema, load_default=list)
    birth_dates = _birth_dates(load_default=list)
    nationalities = _nationalities(load_default=list)
    notes = _text(MAX_TEXT, allow_none=True)

    @validates_schema
    def _unique_designation_ids(self, data: dict[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        for designation in data.get("designations") or []:
            if designation["id"] in seen:
                raise ValidationError(
                    f"Designation id {designation['id']!r} is used twice.",
                    field_name="designations",
                )
            seen.add(designation["id"])


class EntityPatchSchema(Schema):
    """PATCH body: any top-level field of an entity; lists replace the whole list."""

    type = fields.String(validate=validate.OneOf(ENTITY_TYPES))
    name = _name()
    country = _code(allow_none=True)
    names = _list(NameSchema)
    identifiers = _list(IdentifierSchema)
    addresses = _list(AddressSchema)
    designations = _list(DesignationSchema)
    birth_dates = _birth_dates()
    nationalities = _nationalities()
    notes = _text(MAX_TEXT, allow_none=True)


class ActionSchema(Schema):
    """A sanctions announcement as the documents report it; its targets may be unnamed."""

    id = _id(required=True)
    jurisdiction = _code(required=True)
    authority = _text(
        200, allow_none=True, metadata={"description": "Null when the source does not say."}
    )
    date = PartialDate(required=True)
    title = _text(500, required=True)
    description = _text(MAX_TEXT, allow_none=True)
    program = _text(300, allow_none=True)
    target_count = WholeNumber(
        allow_none=True,
        validate=validate.Range(min=0, max=1_000_000_000),
        metadata={"description": "Number of targets the source reports, named or not."},
    )
    targets = _text(
        2_000,
        allow_none=True,
        metadata={"description": "The targets as the source describes them."},
    )
    evidence = fields.List(
        fields.Nested(EvidenceSchema),
        required=True,
        validate=validate.Length(
            min=1, max=100, error="Give between {min} and {max} evidence items."
        ),
    )
    notes = _text(MAX_TEXT, allow_none=True)


class SourceSchema(Schema):
    """A document a fact comes from: a news article, an official publication or list file."""

    id = _id(required=True)
    kind = fields.String(validate=validate.OneOf(SOURCE_KINDS), required=True)
    title = _text(1_000, required=True)
    publisher = _text(500, allow_none=True)
    url = fields.Url(allow_none=True, schemes={"http", "https"})
    language = fields.String(
        validate=Pattern(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", error="Use a BCP 47 tag."),
        allow_none=True,
    )
    published = PartialDate(
        allow_none=True, metadata={"description": "As far as the source states it."}
    )
    published_as_stated = _text(
        500, allow_none=True, metadata={"description": "The date words of the document itself."}
    )
    path = _text(
        1_000,
        allow_none=True,
        load_only=True,
        metadata={
            "description": "File holding the text, relative to the fixture file (file loads only)."
        },
    )
    text = Text(
        allow_none=True,
        load_only=True,
        validate=validate.Length(max=5_000_000),
        metadata={"description": "The document's text, when given inline."},
    )
    checksum = fields.String(
        allow_none=True,
        validate=Pattern(r"sha256:[0-9a-f]{64}", error="Use sha256:<64 hex digits>."),
    )
    notes = _text(MAX_TEXT, allow_none=True)


class FixtureSchema(Schema):
    """A fixture file or `POST /bulk` body."""

    version = WholeNumber(
        load_default=1, validate=validate.Equal(1, error="Only version 1 exists.")
    )
    dataset = _id(
        load_default="fixtures",
        metadata={"description": "Dataset the entities are recorded under (default: fixtures)."},
    )
    include = fields.List(
        _text(1_000),
        load_default=list,
        load_only=True,
        metadata={"description": "Other fixture files to load first, relative to this one."},
    )
    sources = _list(SourceSchema, load_default=list)
    entities = fields.List(
        fields.Nested(EntitySchema), load_default=list, validate=validate.Length(max=100_000)
    )
    actions = _list(ActionSchema, load_default=list)
