"""Wire schemas of monitoring: books, records, jobs, alerts, webhooks, the audit trail."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from .api import Complete, PageArgs
from .fields import Instant, Text

KINDS = ("new", "changed", "removed")
STATUSES = ("open", "cleared", "escalated")


def _doc(text: str) -> dict[str, str]:
    return {"description": text}


class BookCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))


class BookSchema(Complete):
    id = fields.String()
    name = fields.String()
    created_at = fields.String()
    created_by = fields.String()
    records = fields.Integer()
    open_alerts = fields.Integer()


class BookListSchema(Schema):
    items = fields.List(fields.Nested(BookSchema))


class BookRecordSchema(Complete):
    id = fields.String()
    name = fields.String()
    type = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    dob = fields.String(allow_none=True)
    nationality = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True)
    updated_at = fields.String()
    matches = fields.List(fields.Dict(), metadata=_doc("Current matches: entity_id, score."))


class BookRecordPageSchema(Schema):
    items = fields.List(fields.Nested(BookRecordSchema))
    total = fields.Integer()
    next_cursor = fields.String(allow_none=True)


class RecordsUploadArgs(Schema):
    wait = fields.Boolean(
        load_default=None,
        metadata=_doc(
            "Screen before answering (default: for up to 1,000 new or changed records); "
            "false: answer 202 at once with the job to follow."
        ),
    )


class JobSchema(Complete):
    id = fields.String()
    book_id = fields.String()
    state = fields.String(metadata=_doc("queued, running, finished or failed"))
    total = fields.Integer(metadata=_doc("New and changed records to screen."))
    screened = fields.Integer()
    progress = fields.Float()
    added = fields.Integer()
    replaced = fields.Integer()
    unchanged = fields.Integer()
    alerts = fields.Integer()
    error = fields.String(allow_none=True)
    created_at = fields.String()
    finished_at = fields.String(allow_none=True)


class AlertListArgs(PageArgs):
    book = fields.String(validate=validate.Length(min=1, max=100))
    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    entity = fields.String(validate=validate.Length(min=1, max=200))
    record = fields.String(validate=validate.Length(min=1, max=200))
    since = Instant(metadata=_doc("Alerts created at or after this instant."))


class AlertEventSchema(Complete):
    at = fields.String()
    action = fields.String(metadata=_doc("opened, cleared or escalated"))
    actor = fields.String()
    note = fields.String(allow_none=True)
    decision_id = fields.String(allow_none=True)


class AlertSchema(Complete):
    id = fields.String()
    book_id = fields.String()
    record_id = fields.String()
    entity_id = fields.String()
    kind = fields.String(metadata=_doc("new, changed or removed"))
    status = fields.String(metadata=_doc("open, cleared or escalated"))
    score = fields.Float(allow_none=True)
    data_version = fields.Integer()
    created_at = fields.String()
    updated_at = fields.String()
    record = fields.Dict(metadata=_doc("The book record as screened."))
    entity = fields.Dict(metadata=_doc("The entity and its listings (designations)."))
    matched_name = fields.String(allow_none=True)
    name_kind = fields.String(allow_none=True)
    summary = fields.String(allow_none=True)
    explanation = fields.Dict(allow_none=True)
    history = fields.List(fields.Nested(AlertEventSchema))


class AlertPageSchema(Schema):
    items = fields.List(fields.Nested(AlertSchema))
    total = fields.Integer()
    next_cursor = fields.String(allow_none=True)


class AlertDecisionSchema(Schema):
    note = Text(validate=validate.Length(max=5_000), allow_none=True)


class WebhookCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=8, max=2000))
    secret = fields.String(
        required=True,
        validate=validate.Length(min=16, max=500),
        metadata=_doc("Signs each body: X-Registry-Signature: sha256=HMAC-SHA256(secret, body)."),
    )


class WebhookSchema(Complete):
    id = fields.String()
    book_id = fields.String()
    url = fields.String()
    created_at = fields.String()
    created_by = fields.String()
    deliveries = fields.Dict(metadata=_doc("pending and delivered counts"))


class WebhookListSchema(Schema):
    items = fields.List(fields.Nested(WebhookSchema))


class DeliverySchema(Complete):
    id = fields.String()
    alert_id = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_at = fields.String()
    last_error = fields.String(allow_none=True)
    created_at = fields.String()
    delivered_at = fields.String(allow_none=True)


class DeliveryListSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))


class AuditArgs(PageArgs):
    since = Instant()
    until = Instant()
    actor = fields.String(validate=validate.Length(min=1, max=200), metadata=_doc("key:<id>"))
    kind = fields.String(validate=validate.Length(min=1, max=50))
    entity = fields.String(validate=validate.Length(min=1, max=200))
    query = Text(
        validate=validate.Length(min=1, max=500),
        metadata=_doc("A name screened by GET /screen (found by the SHA-256 of its query)."),
    )
    query_sha256 = fields.String(validate=validate.Regexp(r"\A[0-9a-f]{64}\Z"))
    format = fields.String(
        validate=validate.OneOf(("json", "jsonl", "csv")),
        metadata=_doc("json (a page), jsonl or csv (every entry matching, streamed)."),
    )


class AuditListEntrySchema(Complete):
    id = fields.String()
    at = fields.String()
    kind = fields.String()
    actor = fields.String(allow_none=True)
    query_sha256 = fields.String()
    queries = fields.List(fields.Raw(), allow_none=True)
    names = fields.Integer()
    params = fields.Dict()
    data_version = fields.Integer(allow_none=True)
    datasets = fields.Raw()
    entities = fields.List(fields.String())
    matches = fields.List(fields.Dict())


class AuditEntrySchema(AuditListEntrySchema):
    answer = fields.Raw(
        allow_none=True,
        metadata=_doc(
            "The answer as it was sent (JSON; a CSV answer as media_type and text, an XLSX "
            "one as media_type and base64); "
            "null when REGISTRY_AUDIT_MINIMISE was set."
        ),
    )


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditListEntrySchema))
    total = fields.Integer()
    next_cursor = fields.String(allow_none=True)
