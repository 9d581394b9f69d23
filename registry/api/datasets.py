"""/datasets: the lists the registry holds, where they come from, and how fresh they are."""

from __future__ import annotations

from typing import Any

from flask import current_app

from schemas.api import DatasetListSchema

from .. import freshness
from ..sources import Dataset, catalogue
from .common import Blueprint, get_db, settings

blp = Blueprint(
    "datasets",
    __name__,
    url_prefix="/datasets",
    description="The lists the registry holds, their sources and their freshness",
)


def active_catalogue() -> list[Dataset]:
    """The catalogue in force (REGISTRY_SOURCES or the built-in one), read once per app."""
    cached: list[Dataset] | None = current_app.extensions.get("registry_catalogue")
    if cached is None:
        cached = catalogue(settings().sources_file)
        current_app.extensions["registry_catalogue"] = cached
    return cached


@blp.route("")
@blp.response(200, DatasetListSchema)
def list_datasets() -> dict[str, Any]:
    """Each dataset with its source URLs, its last refresh or import attempt (and why it
    failed), its last success, the publication date of the loaded file, its record counts,
    and stale: true once not confirmed current for longer than REGISTRY_MAX_LIST_AGE."""
    return freshness.dataset_states(get_db(), active_catalogue(), max_age=settings().max_list_age)
