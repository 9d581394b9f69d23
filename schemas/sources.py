"""The catalogue of list sources: what `registry sources` prints and `registry refresh
--sources FILE` reads, so a mirror, a proxy or a test server can stand in for the
publishers.

    {"datasets": [{"name": "us-ofac-sdn", "format": "ofac-csv",
                   "urls": ["https://.../sdn.csv", "https://.../add.csv"],
                   "min_records": 10000}]}

Only name, format and urls are required; the rest describe the list and what a sane file of
it looks like.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .api import IMPORT_FORMATS
from .fixture import ID_MESSAGE, ID_PATTERN


class SourceDatasetSchema(Schema):
    name = fields.String(
        required=True,
        validate=validate.Regexp(ID_PATTERN, error=ID_MESSAGE),
        metadata={"description": "The dataset the files load (e.g. us-ofac-sdn)."},
    )
    format = fields.String(required=True, validate=validate.OneOf(IMPORT_FORMATS))
    urls = fields.List(
        fields.Url(schemes={"http", "https"}, require_tld=False),
        required=True,
        validate=validate.Length(max=20),
        metadata={"description": "The files of one publication, fetched together."},
    )
    title = fields.String(validate=validate.Length(max=300))
    publisher = fields.String(validate=validate.Length(max=300))
    page = fields.Url(
        schemes={"http", "https"},
        require_tld=False,
        metadata={"description": "The publisher's page about the list."},
    )
    min_records = fields.Integer(
        validate=validate.Range(min=0),
        metadata={"description": "A complete file holds at least this many entries."},
    )
    content_types = fields.List(
        fields.String(validate=validate.Length(min=3, max=100)),
        metadata={"description": "Media types the publisher serves the files as."},
    )
    max_bytes = fields.Integer(
        validate=validate.Range(min=1), metadata={"description": "Largest file accepted."}
    )
    included_in = fields.String(
        validate=validate.Regexp(ID_PATTERN, error=ID_MESSAGE),
        metadata={"description": "Another dataset whose files carry this list."},
    )
    note = fields.String(validate=validate.Length(max=2000))


class SourcesSchema(Schema):
    datasets = fields.List(fields.Nested(SourceDatasetSchema), required=True)

    @validates_schema
    def _unique_names(self, data: dict[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        for index, item in enumerate(data.get("datasets") or []):
            if item["name"] in seen:
                raise ValidationError(
                    {"datasets": {index: {"name": [f"{item['name']} is listed twice."]}}}
                )
            seen.add(item["name"])
