"""/imports: official list files imported over HTTP, the runs and what each changed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import request
from werkzeug.utils import secure_filename

from schemas.api import (
    ImportChangeArgs,
    ImportChangePageSchema,
    ImportListArgs,
    ImportRunPageSchema,
    ImportRunSchema,
    ImportUploadSchema,
)

from .. import imports
from ..db import view
from ..problems import InputError, not_found
from .common import Blueprint, actor, get_db, problem, settings

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/imports",
    description="Imports of official lists, and what each changed",
)


@blp.before_request
def _allow_list_sized_bodies() -> None:
    # Official list files are larger than any other request body.
    request.max_content_length = settings().max_import_bytes


def _missing(run_id: str) -> InputError:
    return not_found(f"No import run {run_id!r}.")


@blp.route("", methods=["POST"])
@blp.arguments(ImportUploadSchema, location="multipart")
@blp.response(201, ImportRunSchema)
@blp.alt_response(
    409,
    **problem(
        "Refused: an older publication than the one loaded, or a run that would delist more "
        "than 10% of the dataset; errors say what would have happened. Nothing was written."
    ),
)
def create_import(form: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Import list files (multipart: format, strict, allow_older, allow_mass_delisting,
    files); all or nothing, recorded."""
    with tempfile.TemporaryDirectory(prefix="registry-import-") as tmp:
        paths, names = [], []
        for index, storage in enumerate(form["files"]):
            name = secure_filename(storage.filename or "") or f"file-{index}"
            path = Path(tmp) / f"{index:02d}" / name
            path.parent.mkdir()
            storage.save(path)
            paths.append(path)
            names.append(name)
        result = imports.run_import(
            get_db(),
            form["format"],
            paths,
            actor=actor(),
            strict=form["strict"],
            file_names=names,
            guards=imports.Guards(
                allow_older=form["allow_older"],
                allow_mass_delisting=form["allow_mass_delisting"],
            ),
        )
    run = imports.get_run(get_db(), result.run_id)
    return run or {}, 201


@blp.route("", methods=["GET"])
@blp.arguments(ImportListArgs, location="query")
@blp.response(200, ImportRunPageSchema)
def list_imports(args: dict[str, Any]) -> dict[str, Any]:
    """Import runs, newest first."""
    return imports.list_runs(get_db(), args).as_dict()


@blp.route("/<string:run_id>")
@blp.response(200, ImportRunSchema)
@blp.alt_response(404, description="No such run.")
def get_import(run_id: str) -> dict[str, Any]:
    """One run: files with checksums, times, counts, warnings."""
    run = imports.get_run(get_db(), run_id)
    if run is None:
        raise _missing(run_id)
    return run


@blp.route("/<string:run_id>/changes")
@blp.arguments(ImportChangeArgs, location="query")
@blp.response(200, ImportChangePageSchema)
@blp.alt_response(404, description="No such run.")
def list_changes(args: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Records the run added, changed or delisted, with what changed."""
    with view(get_db()):
        if imports.get_run(get_db(), run_id) is None:
            raise _missing(run_id)
        return imports.list_changes(get_db(), run_id, args).as_dict()
