"""Query arguments and response bodies of the HTTP API."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_dump,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from .fields import Instant, Name, Pattern, StrictDate, Text, Upload, WholeNumber
from .fixture import (
    ENTITY_TYPES,
    ID_MESSAGE,
    ID_PATTERN,
    SOURCE_KINDS,
    ActionSchema,
    AddressSchema,
    DesignationSchema,
    EntitySchema,
    EvidenceSchema,
    IdentifierSchema,
    NameSchema,
    SourceSchema,
)

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
ENTITY_STATUSES = ("active", "delisted", "unlisted")


def _doc(text: str) -> dict[str, str]:
    return {"description": text}


def _code(text: str) -> fields.String:
    return fields.String(
        validate=Pattern(r"[A-Z]{2}", error="Use a two-letter upper-case code."),
        metadata=_doc(text),
    )


class Complete(Schema):
    """Responses list every field of their schema, null when unknown: one shape."""

    @post_dump
    def _fill(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        for name, field in self.dump_fields.items():
            data.setdefault(field.data_key or name, None)
        return data


class PageArgs(Schema):
    limit = WholeNumber(
        load_default=DEFAULT_PAGE_SIZE,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata=_doc(f"Items per page, 1-{MAX_PAGE_SIZE}."),
    )
    cursor = fields.String(
        validate=validate.Length(max=500),
        metadata=_doc("The next_cursor of the previous page."),
    )


def _check_range(data: dict[str, Any], low: str, high: str) -> None:
    if data.get(low) and data.get(high) and data[low] > data[high]:
        raise ValidationError(f"Must not be after {high}.", field_name=low)


class DesignationFilterArgs(PageArgs):
    jurisdiction = _code("Listing jurisdiction: US, GB, EU, UN ...")
    authority = Text(
        validate=validate.Length(min=1, max=200), metadata=_doc("e.g. BIS, OFAC, FCDO.")
    )
    program = Text(
        validate=validate.Length(min=1, max=300), metadata=_doc("List programme or regime.")
    )
    listed_from = StrictDate(metadata=_doc("Listed on or after this day (YYYY-MM-DD)."))
    listed_to = StrictDate(metadata=_doc("Listed on or before this day (YYYY-MM-DD)."))
    source = fields.String(
        validate=Pattern(ID_PATTERN, error=ID_MESSAGE),
        metadata=_doc("Only listings whose evidence cites this source id."),
    )

    @validates_schema
    def _dates(self, data: dict[str, Any], **kwargs: Any) -> None:
        _check_range(data, "listed_from", "listed_to")


def _as_of() -> Instant:
    return Instant(
        metadata=_doc(
            "Answer as the registry stood at this instant: YYYY-MM-DD (end of that day, "
            "UTC) or an ISO date-time."
        )
    )


class AsOfArgs(Schema):
    as_of = _as_of()


class EntityListArgs(DesignationFilterArgs):
    as_of = _as_of()
    q = Text(
        validate=validate.Length(min=1, max=200),
        metadata=_doc("Name or identifier search; case- and accent-insensitive, word prefixes."),
    )
    type = fields.String(validate=validate.OneOf(ENTITY_TYPES))
    country = _code("ISO 3166 country of the entity or of one of its addresses.")
    status = fields.String(
        validate=validate.OneOf(ENTITY_STATUSES),
        metadata=_doc("active: at least one listing in force; delisted: none left; unlisted."),
    )


class DesignationListArgs(DesignationFilterArgs):
    entity = fields.String(validate=Pattern(ID_PATTERN, error=ID_MESSAGE))
    action = fields.String(validate=Pattern(ID_PATTERN, error=ID_MESSAGE))
    status = fields.String(validate=validate.OneOf(("active", "delisted")))


class ActionListArgs(PageArgs):
    jurisdiction = _code("US, GB, EU, UN ...")
    authority = Text(validate=validate.Length(min=1, max=200))
    date_from = StrictDate(metadata=_doc("Announced on or after (YYYY-MM-DD)."))
    date_to = StrictDate(metadata=_doc("Announced on or before (YYYY-MM-DD)."))

    @validates_schema
    def _dates(self, data: dict[str, Any], **kwargs: Any) -> None:
        _check_range(data, "date_from", "date_to")


class SourceListArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(SOURCE_KINDS))


class DryRunArgs(Schema):
    dry_run = fields.Boolean(
        load_default=False, metadata=_doc("Check and count everything, write nothing.")
    )


# -- responses ---------------------------------------------------------------------


class DesignationBriefSchema(Complete):
    id = fields.String()
    jurisdiction = fields.String()
    authority = fields.String()
    list = fields.String()
    program = fields.String(allow_none=True)
    listed_date = fields.String(allow_none=True)
    delisted_date = fields.String(allow_none=True)
    status = fields.String()


class EntitySummarySchema(Complete):
    id = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String()
    country = fields.String(allow_none=True)
    status = fields.String()
    first_listed = fields.String(allow_none=True)
    designations = fields.List(fields.Nested(DesignationBriefSchema))


class ActionBriefSchema(Complete):
    id = fields.String()
    title = fields.String()
    date = fields.String()
    jurisdiction = fields.String()
    authority = fields.String(allow_none=True)


class EvidenceOutSchema(Complete, EvidenceSchema):
    pass


class DesignationOutSchema(Complete, DesignationSchema):
    evidence = fields.List(fields.Nested(EvidenceOutSchema))
    listed_date_precision = fields.String(allow_none=True)
    status = fields.String()
    record = fields.String(metadata=_doc("Record (list entry) the designation comes from."))
    action = fields.Nested(ActionBriefSchema, allow_none=True)  # type: ignore[assignment]
    entity = fields.Nested(lambda: EntityRefSchema(), allow_none=True)


class EntityRefSchema(Complete):
    id = fields.String()
    name = fields.String()
    type = fields.String()


class NameOutSchema(Complete, NameSchema):
    record = fields.String()


class IdentifierOutSchema(Complete, IdentifierSchema):
    record = fields.String()


class AddressOutSchema(Complete, AddressSchema):
    record = fields.String()


class BirthDateOutSchema(Complete):
    date = fields.String(
        metadata=_doc("YYYY-MM-DD, YYYY-MM, YYYY, or a range A/B ('circa 1952' is 1950/1954).")
    )
    precision = fields.String(metadata=_doc("day, month, year or range"))
    record = fields.String()


class NationalityOutSchema(Complete):
    country = fields.String(metadata=_doc("ISO 3166-1 alpha-2 code."))
    record = fields.String()


class RecordOutSchema(Complete):
    id = fields.String()
    dataset = fields.String()
    merge = fields.Dict(metadata=_doc("Why this record belongs to the entity: rule and detail."))
    created_at = fields.String()
    updated_at = fields.String()
    removed_at = fields.String(allow_none=True, metadata=_doc("When its list dropped it."))


class SourceBriefSchema(Complete):
    id = fields.String()
    kind = fields.String()
    title = fields.String()
    publisher = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    published = fields.String(allow_none=True)


class EntityDetailSchema(Complete):
    id = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String()
    country = fields.String(allow_none=True)
    status = fields.String()
    first_listed = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    names = fields.List(fields.Nested(NameOutSchema))
    identifiers = fields.List(fields.Nested(IdentifierOutSchema))
    addresses = fields.List(fields.Nested(AddressOutSchema))
    birth_dates = fields.List(
        fields.Nested(BirthDateOutSchema), metadata=_doc("Dates of birth the lists give.")
    )
    nationalities = fields.List(
        fields.Nested(NationalityOutSchema),
        metadata=_doc("Nationalities and citizenships the lists give."),
    )
    designations = fields.List(fields.Nested(DesignationOutSchema))
    records = fields.List(fields.Nested(RecordOutSchema))
    sources = fields.List(
        fields.Nested(SourceBriefSchema), metadata=_doc("Every source the entity's facts cite.")
    )
    created_at = fields.String()
    updated_at = fields.String()
    as_of = fields.String(allow_none=True, metadata=_doc("The instant answered for, if any."))


# -- PUT /entities/{id}: the body of a GET can be sent back as it is ------------------


def _read_only(text: str) -> fields.Raw:
    """A field of the GET answer that PUT accepts and ignores."""
    return fields.Raw(allow_none=True, metadata={"readOnly": True, **_doc(text)})


def _record_field() -> fields.String:
    return fields.String(
        allow_none=True,
        metadata={
            "readOnly": True,
            **_doc("The record this part comes from; parts of other records are ignored."),
        },
    )


class ActionRef(fields.Field):
    """A designation's action: its id, or the action object a GET answer shows."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, dict):
            value = value.get("id")
        if not isinstance(value, str):
            raise ValidationError("Give the id of an action.")
        Pattern(ID_PATTERN, error=ID_MESSAGE)(value)
        return value


class _DropReadOnly(Schema):
    READ_ONLY: tuple[str, ...] = ()

    @post_load
    def _drop(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        for key in self.READ_ONLY:
            data.pop(key, None)
        return data


class NameInSchema(NameSchema):
    record = _record_field()


class IdentifierInSchema(IdentifierSchema):
    record = _record_field()


class AddressInSchema(AddressSchema):
    record = _record_field()


class DesignationInSchema(_DropReadOnly, DesignationSchema):
    READ_ONLY = ("listed_date_precision", "status", "entity")

    action = ActionRef(  # type: ignore[assignment]
        allow_none=True,
        metadata={"description": "Id of the action that made this listing (or the action)."},
    )
    record = _record_field()
    listed_date_precision = _read_only("Shown by GET; derived from listed_date.")
    status = _read_only("Shown by GET; derived from delisted_date.")
    entity = _read_only("Shown by GET /designations.")


def _in_list(nested: type[Schema], **kwargs: Any) -> fields.List:
    return fields.List(fields.Nested(nested), validate=validate.Length(max=2_000), **kwargs)


class EntityReplaceSchema(_DropReadOnly, EntitySchema):
    """PUT /entities/{id}: an entity, or the body a GET of it answered. What the
    service derives (status, records, sources, times) is accepted and ignored, and
    names, identifiers, addresses and designations of the entity's other records
    (merged from other lists) are left to those records."""

    READ_ONLY = (
        "status",
        "first_listed",
        "records",
        "sources",
        "created_at",
        "updated_at",
        "as_of",
    )

    id = fields.String(
        validate=Pattern(ID_PATTERN, error=ID_MESSAGE),
        metadata=_doc("The id in the path (optional here)."),
    )
    names = _in_list(NameInSchema, load_default=list)
    identifiers = _in_list(IdentifierInSchema, load_default=list)
    addresses = _in_list(AddressInSchema, load_default=list)
    designations = _in_list(DesignationInSchema, load_default=list)
    status = _read_only("Shown by GET; derived from the designations.")
    first_listed = _read_only("Shown by GET; derived from the designations.")
    records = _read_only("Shown by GET; the list entries merged into the entity.")
    sources = _read_only("Shown by GET; the sources the entity's facts cite.")
    created_at = _read_only("Shown by GET.")
    updated_at = _read_only("Shown by GET.")
    as_of = _read_only("Shown by GET.")

    @pre_load
    def _own_parts(self, data: Any, **kwargs: Any) -> Any:
        """Parts a GET showed from other records (their `record` is another id)."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return data
        own = data["id"]
        out = dict(data)
        for part in ("names", "identifiers", "addresses", "designations"):
            items = out.get(part)
            if isinstance(items, list):
                out[part] = [
                    item
                    for item in items
                    if not isinstance(item, dict) or item.get("record") in (None, own)
                ]
        return out

    @post_load
    def _drop_records(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        for part in ("names", "identifiers", "addresses", "designations"):
            for item in data.get(part) or []:
                item.pop("record", None)
        return data


class ActionOutSchema(Complete, ActionSchema):
    evidence = fields.List(fields.Nested(EvidenceOutSchema))
    designations = fields.List(
        fields.Nested(lambda: DesignationLinkSchema()),
        metadata=_doc("Listings made by this action whose targets are known."),
    )
    created_at = fields.String()
    updated_at = fields.String()


class DesignationLinkSchema(Complete):
    id = fields.String()
    entity = fields.Nested(EntityRefSchema)


class SourceOutSchema(Complete, SourceSchema):
    size = fields.Integer(allow_none=True)
    cited_by = fields.Dict(keys=fields.String(), values=fields.Integer())
    created_at = fields.String()
    updated_at = fields.String()


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """A page schema: items, total and the cursor of the next page."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "total": fields.Integer(required=True, metadata=_doc("Items matching the filters.")),
            "next_cursor": fields.String(
                allow_none=True, required=True, metadata=_doc("Null on the last page.")
            ),
        },
        name=name,
    )


EntityPageSchema = page_of(EntitySummarySchema, "EntityPage")
DesignationPageSchema = page_of(DesignationOutSchema, "DesignationPage")
ActionPageSchema = page_of(ActionOutSchema, "ActionPage")
SourcePageSchema = page_of(SourceOutSchema, "SourcePage")


class SourceDetailSchema(SourceOutSchema):
    text = Text(allow_none=True, metadata=_doc("Full text, when held."))


class CountsSchema(Schema):
    added = fields.Integer()
    changed = fields.Integer()
    removed = fields.Integer()
    unchanged = fields.Integer()


class FileReportSchema(Schema):
    file = fields.String()
    dataset = fields.String()
    sources = fields.Nested(CountsSchema)
    actions = fields.Nested(CountsSchema)
    entities = fields.Nested(CountsSchema)


class LoadReportSchema(Schema):
    dry_run = fields.Boolean()
    changed = fields.Boolean(metadata=_doc("False when the load changed nothing."))
    totals = fields.Nested(CountsSchema)
    files = fields.List(fields.Nested(FileReportSchema))


class IndexBuildSchema(Schema):
    index = fields.String(metadata=_doc("current, or as of data version N"))
    data_version = fields.Integer()
    names = fields.Integer()
    seconds = fields.Float(metadata=_doc("How long the build took."))
    finished_at = fields.String()


class IndexLayerSchema(Schema):
    entities = fields.Integer()
    names = fields.Integer()
    data_version = fields.Integer(metadata=_doc("The data version it was built from."))


class IndexStateSchema(Schema):
    state = fields.String(metadata=_doc("building (none ready yet), ready or failed."))
    ready = fields.Boolean(metadata=_doc("Screening can answer."))
    data_version = fields.Integer(
        allow_none=True, metadata=_doc("The registry's data version the index answers for.")
    )
    age_s = fields.Float(allow_none=True, metadata=_doc("Seconds since the index last changed."))
    names = fields.Integer(metadata=_doc("Names indexed."))
    changed_entities = fields.Integer(
        metadata=_doc("Entities changed since the last full build, in the layers above it.")
    )
    layers = fields.List(
        fields.Nested(IndexLayerSchema),
        metadata=_doc("The base (the whole registry), then layers of what changed since."),
    )
    behind = fields.Boolean(
        metadata=_doc("A large change (an import) is not in yet: its rebuild is under way.")
    )
    building = fields.String(
        allow_none=True, metadata=_doc("What is being built in the background, if anything.")
    )
    rebuild_pending = fields.Boolean()
    last_build = fields.Nested(IndexBuildSchema, allow_none=True)
    past_versions = fields.List(
        fields.Integer(), metadata=_doc("Data versions of the past (as_of) indexes kept.")
    )


class ReadySchema(Schema):
    status = fields.String()
    index = fields.Nested(IndexStateSchema)


class StatsSchema(Schema):
    entities = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_type = fields.Dict(keys=fields.String(), values=fields.Integer())
    designations = fields.Integer()
    by_jurisdiction = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_authority = fields.Dict(keys=fields.String(), values=fields.Integer())
    actions = fields.Integer()
    sources = fields.Integer()
    records_by_dataset = fields.Dict(keys=fields.String(), values=fields.Integer())
    index = fields.Nested(IndexStateSchema, metadata=_doc("The screening index."))


class LimitsSchema(Schema):
    max_screen_batch = fields.Integer(
        metadata=_doc("Names per POST /screen (JSON queries, CSV or XLSX rows).")
    )
    max_body_bytes = fields.Integer(metadata=_doc("Largest request body."))


class HealthSchema(Schema):
    status = fields.String()
    database = fields.String()
    generation = fields.Integer(metadata=_doc("Bumped by every write that changed data."))
    matcher = fields.String(metadata=_doc("Which build of the name matcher runs."))
    index = fields.Nested(IndexStateSchema, metadata=_doc("The screening index."))
    limits = fields.Nested(
        LimitsSchema, metadata=_doc("What one request may hold (clients split their work by it).")
    )


class ProblemItemSchema(Schema):
    message = fields.String(required=True)
    field = fields.String(metadata=_doc("Dotted path of the field at fault."))
    location = fields.String(metadata=_doc("query, json, path, file ..."))
    file = fields.String()
    record = fields.String()


class ProblemSchema(Schema):
    """RFC 9457 problem details, the body of every error (application/problem+json)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String()
    errors = fields.List(fields.Nested(ProblemItemSchema))


# -- API keys -------------------------------------------------------------------------

KEY_SCOPES = ("read", "write", "admin")


class KeyCreateSchema(Schema):
    name = Text(multiline=False, required=True, validate=validate.Length(min=1, max=200))
    scope = fields.String(required=True, validate=validate.OneOf(KEY_SCOPES))


class KeySchema(Complete):
    id = fields.String()
    name = fields.String()
    scope = fields.String()
    created_at = fields.String()
    created_by = fields.String(allow_none=True)
    last_used_at = fields.String(allow_none=True)
    revoked_at = fields.String(allow_none=True)


class KeyCreatedSchema(Complete):
    id = fields.String()
    name = fields.String()
    scope = fields.String()
    key = fields.String(metadata=_doc("The key itself: shown once, stored only as a hash."))


# -- history --------------------------------------------------------------------------


class HistoryArgs(PageArgs):
    pass


class HistoryEntrySchema(Complete):
    version = fields.Integer(metadata=_doc("Version of the record this entry made."))
    record = fields.String(metadata=_doc("The record (list entry) that changed."))
    dataset = fields.String(allow_none=True)
    change = fields.String(
        metadata=_doc("added, changed, removed (delisted), relisted, deleted, restored")
    )
    at = fields.String()
    actor = fields.String(allow_none=True, metadata=_doc("key:<id>, load, or import:<run>"))
    run_id = fields.String(allow_none=True, metadata=_doc("The import run, if any."))
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    diff = fields.Dict(allow_none=True)


HistoryPageSchema = page_of(HistoryEntrySchema, "HistoryPage")


class ExportArgs(EntityListArgs):
    """The filters of GET /entities; an export holds every match, so no paging."""

    class Meta:
        exclude = ("limit", "cursor")


# -- screening decisions ----------------------------------------------------------------

VERDICTS = ("false_positive", "true_match")


class DecisionCreateSchema(Schema):
    query = Name(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata=_doc("The screened name, as it was screened."),
    )
    entity_id = fields.String(required=True, validate=Pattern(ID_PATTERN, error=ID_MESSAGE))
    verdict = fields.String(required=True, validate=validate.OneOf(VERDICTS))
    note = Text(validate=validate.Length(max=5_000), allow_none=True)


class DecisionListArgs(PageArgs):
    entity = fields.String(validate=Pattern(ID_PATTERN, error=ID_MESSAGE))
    query = Text(validate=validate.Length(min=1, max=500))
    verdict = fields.String(validate=validate.OneOf(VERDICTS))
    include_ended = fields.Boolean(
        load_default=False, metadata=_doc("Also superseded and withdrawn decisions.")
    )


class DecisionSchema(Complete):
    id = fields.String()
    query = fields.String()
    entity_id = fields.String()
    verdict = fields.String()
    note = fields.String(allow_none=True)
    actor = fields.String(metadata=_doc("The key that decided (key:<id>)."))
    created_at = fields.String()
    valid_to = fields.String(allow_none=True, metadata=_doc("When superseded or withdrawn."))
    ended_by = fields.String(
        allow_none=True, metadata=_doc("The decision that superseded it, or 'withdrawn'.")
    )
    ended_actor = fields.String(allow_none=True)


class DecisionDetailSchema(DecisionSchema):
    history = fields.List(
        fields.Nested(DecisionSchema),
        metadata=_doc("Every decision on this name and entity, oldest first."),
    )


DecisionPageSchema = page_of(DecisionSchema, "DecisionPage")


# -- screening ----------------------------------------------------------------------------

MAX_MATCHES = 100


class ScreenOptionsArgs(Schema):
    """Options shared by GET /screen, POST /screen and `registry screen`."""

    threshold = fields.Float(
        validate=validate.Range(min=0, max=1),
        metadata=_doc(
            "A score at or above it is a match (default: the service's documented threshold)."
        ),
    )
    min_score = fields.Float(
        validate=validate.Range(min=0, max=1),
        metadata=_doc("Also list candidates down to this score, marked match=false."),
    )
    limit = WholeNumber(
        load_default=10,
        validate=validate.Range(min=1, max=MAX_MATCHES),
        metadata=_doc("Matches per name."),
    )
    jurisdiction = _code("Only entities listed by this jurisdiction.")
    authority = Text(validate=validate.Length(min=1, max=200))
    program = Text(validate=validate.Length(min=1, max=300))
    include_delisted = fields.Boolean(
        load_default=False, metadata=_doc("Also entities whose listings have all ended.")
    )
    hide_false_positives = fields.Boolean(
        load_default=False,
        metadata=_doc("Leave out matches an analyst decided are false positives."),
    )
    as_of = _as_of()


class ScreenFileArgs(ScreenOptionsArgs):
    """POST /screen with a table (CSV or XLSX): the options in the query string."""

    keep_columns = fields.Boolean(
        load_default=False,
        metadata=_doc(
            "Carry the table's other columns (those not among id, name, type, country, dob, "
            "nationality, id_number) into a CSV or XLSX answer, after its own columns."
        ),
    )


# What a query may say besides the name (GET /screen parameters, POST /screen JSON
# keys, CSV columns): checked row by row in registry.screening.check_query.
_DOB_DOC = (
    "Date of birth: YYYY-MM-DD, YYYY-MM or YYYY. A date that conflicts with every date of "
    "birth the lists give lowers the score by 0.3; one that agrees raises it a little."
)
_NATIONALITY_DOC = (
    "Nationality: a two-letter ISO 3166-1 code (RU) or a country's English name (Russia). "
    "A conflict with the entity's nationalities lowers the score by 0.1 (as a country "
    "conflict does, and not twice); a match raises it by 0.03."
)
_ID_NUMBER_DOC = (
    "An identifier number: passport, national id, IMO, tax or registration number (case, "
    "spaces and punctuation ignored; at least 4 letters or digits). An entity with the same "
    "number is found whatever its name and its score is raised by 0.3."
)


class ScreenGetArgs(ScreenOptionsArgs):
    name = Name(required=True, validate=validate.Length(min=1, max=500))
    type = fields.String(
        validate=validate.OneOf(ENTITY_TYPES),
        metadata=_doc("A person never matches a vessel, and so on."),
    )
    country = _code("A country that conflicts with the entity's lowers the score.")
    dob = Text(multiline=False, validate=validate.Length(min=1, max=10), metadata=_doc(_DOB_DOC))
    nationality = Text(
        multiline=False,
        validate=validate.Length(min=1, max=100),
        metadata=_doc(_NATIONALITY_DOC),
    )
    id_number = Text(
        multiline=False,
        validate=validate.Length(min=1, max=100),
        metadata=_doc(_ID_NUMBER_DOC),
    )


class ScreenQueryItemSchema(Schema):
    id = fields.String(metadata=_doc("Your reference for the row, echoed back."))
    name = Name(required=True, validate=validate.Length(min=1, max=500))
    type = fields.String(validate=validate.OneOf(ENTITY_TYPES))
    country = fields.String(validate=Pattern(r"[A-Za-z]{2}"))
    dob = fields.String(
        validate=Pattern(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?"), metadata=_doc(_DOB_DOC)
    )
    nationality = fields.String(
        validate=validate.Length(min=2, max=100), metadata=_doc(_NATIONALITY_DOC)
    )
    id_number = fields.String(
        validate=validate.Length(min=4, max=100), metadata=_doc(_ID_NUMBER_DOC)
    )


class ScreenBatchSchema(ScreenOptionsArgs):
    queries = fields.List(
        fields.Raw(),
        required=True,
        metadata={
            "description": "Names to screen, each {id, name, type, country, dob, nationality, "
            "id_number}. A bad row gets its own error in its result; the others are still "
            "screened.",
            "items": {"$ref": "#/components/schemas/ScreenQueryItem"},
        },
    )


class DecisionBriefSchema(Complete):
    id = fields.String()
    verdict = fields.String()
    note = fields.String(allow_none=True)
    actor = fields.String()
    created_at = fields.String()


class AlignmentSchema(Schema):
    query_word = fields.String(metadata=_doc("Word(s) of the query (normalised)."))
    listed_word = fields.String(metadata=_doc("Word(s) of the listed name they align with."))
    similarity = fields.Float(metadata=_doc("0-1; 1 is the same word."))
    weight = fields.Float(
        metadata=_doc("How much the pair counts: 1 a distinctive word, less for generic ones.")
    )
    method = fields.String(metadata=_doc("token, join, initial, acronym, legal or number"))


class PenaltySchema(Schema):
    name = fields.String()
    amount = fields.Float()
    reason = fields.String()


class CountryConflictSchema(Schema):
    query = fields.String()
    entity = fields.List(fields.String())
    penalty = fields.Float()
    reason = fields.String()


class EvidenceItemSchema(Schema):
    attribute = fields.String(metadata=_doc("date_of_birth, nationality or identifier"))
    query = fields.String(metadata=_doc("What the query said."))
    listed = fields.List(fields.String(), metadata=_doc("What the lists say of the entity."))
    result = fields.String(metadata=_doc("match or conflict"))
    effect = fields.Float(metadata=_doc("Added to the score (negative: subtracted)."))
    detail = fields.String()


class ExplanationSchema(Complete):
    query = fields.String()
    candidate = fields.String(metadata=_doc("The listed name compared."))
    schema = fields.String(metadata=_doc("The rules used: person, org, vessel, aircraft, unknown."))
    query_normalized = fields.String()
    candidate_normalized = fields.String()
    alignment = fields.List(fields.Nested(AlignmentSchema))
    unmatched_query = fields.List(fields.String())
    unmatched_candidate = fields.List(fields.String())
    features = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        metadata=_doc("query_coverage, candidate_coverage and base (before penalties)."),
    )
    penalties = fields.List(fields.Nested(PenaltySchema))
    rule = fields.String(metadata=_doc("alignment, identical_normalized, generic_only_cap ..."))
    country = fields.Nested(
        CountryConflictSchema,
        allow_none=True,
        metadata=_doc("The country hint's conflict, when there is one."),
    )
    name_score = fields.Float(metadata=_doc("The score of the name alone (country hint in)."))
    evidence = fields.List(
        fields.Nested(EvidenceItemSchema),
        metadata=_doc("What the date of birth, nationality and identifier did to the score."),
    )


class MatchSchema(Complete):
    entity_id = fields.String()
    name = fields.String(allow_none=True, metadata=_doc("The entity's primary name."))
    matched_name = fields.String(metadata=_doc("The listed name or alias that matched."))
    name_kind = fields.String()
    score = fields.Float()
    match = fields.Boolean(metadata=_doc("score >= threshold"))
    summary = fields.String(metadata=_doc("The explanation in one plain sentence."))
    explanation = fields.Nested(
        ExplanationSchema,
        metadata=_doc("Normalised forms, word alignment, features, penalties, evidence."),
    )
    entity = fields.Nested(EntitySummarySchema)
    decision = fields.Nested(DecisionBriefSchema, allow_none=True)


class ScreenErrorSchema(Complete):
    message = fields.String()
    errors = fields.List(fields.Nested(ProblemItemSchema))


class ScreenResultSchema(Complete):
    index = fields.Integer(metadata=_doc("Position of the row in the request."))
    id = fields.Raw(allow_none=True)
    query = fields.Raw()
    matches = fields.List(fields.Nested(MatchSchema))
    hidden_false_positives = fields.Integer(
        metadata=_doc("Matches left out as decided false positives (hide_false_positives).")
    )
    error = fields.Nested(ScreenErrorSchema, allow_none=True)


class DatasetVersionSchema(Complete):
    dataset = fields.String()
    import_run = fields.String(
        allow_none=True, metadata=_doc("The import that loaded the list's current publication.")
    )
    published = fields.String(allow_none=True, metadata=_doc("That publication's date."))
    loaded_at = fields.String(
        allow_none=True, metadata=_doc("When it was loaded (other datasets: last changed).")
    )


_DATASETS_USED = _doc("The version of each dataset the answer rests on.")


class ScreenOneSchema(Complete):
    query = fields.Raw()
    threshold = fields.Float()
    as_of = fields.String(allow_none=True)
    matches = fields.List(fields.Nested(MatchSchema))
    hidden_false_positives = fields.Integer(
        metadata=_doc("Matches left out as decided false positives (hide_false_positives).")
    )
    datasets = fields.List(fields.Nested(DatasetVersionSchema), metadata=_DATASETS_USED)


class ScreenBatchResultSchema(Complete):
    threshold = fields.Float()
    as_of = fields.String(allow_none=True)
    count = fields.Integer()
    results = fields.List(fields.Nested(ScreenResultSchema))
    datasets = fields.List(fields.Nested(DatasetVersionSchema), metadata=_DATASETS_USED)


# -- imports --------------------------------------------------------------------------

IMPORT_FORMATS = (
    "ofac-csv",
    "ofac-json",
    "csl-csv",
    "bis-json",
    "uk-fcdo-csv",
    "uk-csv",
    "eu-fsf-xml",
    "eu-json",
    "un-xml",
)


class ImportListArgs(PageArgs):
    dataset = fields.String(validate=Pattern(ID_PATTERN, error=ID_MESSAGE))
    format = fields.String(validate=validate.OneOf(IMPORT_FORMATS))
    status = fields.String(validate=validate.OneOf(("finished", "failed")))


class ImportChangeArgs(PageArgs):
    change = fields.String(
        validate=validate.OneOf(("added", "changed", "removed")),
        metadata=_doc("added includes relisted entries; removed are delistings."),
    )


class ImportFormSchema(Schema):
    format = fields.String(required=True, validate=validate.OneOf(IMPORT_FORMATS))
    strict = fields.Boolean(
        load_default=False, metadata=_doc("A malformed row fails the import instead of a warning.")
    )
    allow_older = fields.Boolean(
        load_default=False,
        metadata=_doc(
            "Import a publication older than the one loaded (rolls the list back); refused "
            "with 409 otherwise."
        ),
    )
    allow_mass_delisting = fields.Boolean(
        load_default=False,
        metadata=_doc(
            "Let the run delist more than 10% of the dataset's listed entries; refused with "
            "409 otherwise (a partial or wrong file)."
        ),
    )


class ImportFilesSchema(Schema):
    files = fields.List(
        Upload(metadata={"type": "string", "format": "binary"}),
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata=_doc("The list files, e.g. sdn.csv with alt.csv and add.csv."),
    )


class ImportUploadSchema(ImportFormSchema, ImportFilesSchema):
    """POST /imports: one multipart/form-data body with the form fields and the files."""


class ImportFileSchema(Complete):
    name = fields.String()
    source = fields.String(
        allow_none=True,
        metadata=_doc("Source id recorded for the file (null when the run failed to read it)."),
    )
    checksum = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)


class ImportWarningSchema(Complete):
    file = fields.String()
    line = fields.Integer(allow_none=True)
    message = fields.String()


class ImportRunSchema(Complete):
    id = fields.String(required=True)
    format = fields.String()
    dataset = fields.String()
    status = fields.String()
    started_at = fields.String()
    finished_at = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    files = fields.List(fields.Nested(ImportFileSchema))
    counts = fields.Nested(
        CountsSchema, metadata=_doc("Records added, changed, removed, unchanged.")
    )
    sources = fields.Nested(CountsSchema, allow_none=True)
    stats = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)
    error = fields.String(allow_none=True)
    published = fields.String(
        allow_none=True, metadata=_doc("Publication date of the list file(s), when known.")
    )
    warnings_count = fields.Integer()
    warnings = fields.List(fields.Nested(ImportWarningSchema), metadata=_doc("The first 100."))


class ImportChangeSchema(HistoryEntrySchema):
    entity_id = fields.String()
    name = fields.String(allow_none=True)


ImportRunPageSchema = page_of(ImportRunSchema, "ImportRunPage")
ImportChangePageSchema = page_of(ImportChangeSchema, "ImportChangePage")


# -- datasets and their freshness -----------------------------------------------------


class DatasetAttemptSchema(Complete):
    kind = fields.String(metadata=_doc("refresh or import"))
    run = fields.String()
    at = fields.String(allow_none=True)
    status = fields.String(
        metadata=_doc("refresh: updated, unchanged, failed; import: finished, failed")
    )
    reason = fields.String(allow_none=True, metadata=_doc("Why it failed, or what it found."))


class DatasetStateSchema(Complete):
    name = fields.String()
    title = fields.String(allow_none=True)
    format = fields.String(allow_none=True)
    publisher = fields.String(allow_none=True)
    page = fields.String(allow_none=True)
    urls = fields.List(fields.String(), metadata=_doc("Where the list's files are fetched from."))
    included_in = fields.String(allow_none=True)
    listed = fields.Integer(metadata=_doc("Entries listed now."))
    delisted = fields.Integer()
    published = fields.String(
        allow_none=True, metadata=_doc("Publication date of the loaded file.")
    )
    import_run = fields.String(allow_none=True)
    loaded_at = fields.String(allow_none=True)
    last_attempt = fields.Nested(DatasetAttemptSchema, allow_none=True)
    last_success_at = fields.String(
        allow_none=True, metadata=_doc("Last refresh that found the list current, or import.")
    )
    age_seconds = fields.Integer(allow_none=True)
    stale = fields.Boolean(
        metadata=_doc("A list not confirmed current for longer than max_list_age_seconds.")
    )


class DatasetListSchema(Complete):
    items = fields.List(fields.Nested(DatasetStateSchema))
    total = fields.Integer()
    max_list_age_seconds = fields.Float()
    checked_at = fields.String()
