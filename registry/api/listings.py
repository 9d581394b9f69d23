"""/designations, /actions and /sources: the listings, announcements and documents."""

from __future__ import annotations

from typing import Any

from schemas.api import (
    ActionListArgs,
    ActionOutSchema,
    ActionPageSchema,
    DesignationListArgs,
    DesignationPageSchema,
    SourceDetailSchema,
    SourceListArgs,
    SourcePageSchema,
)

from .. import queries
from ..problems import InputError, not_found
from .common import Blueprint, get_db, problem

designations = Blueprint(
    "designations",
    __name__,
    url_prefix="/designations",
    description="Listings: who listed whom, when, for what, on what evidence",
)
actions = Blueprint(
    "actions",
    __name__,
    url_prefix="/actions",
    description="Sanctions announcements as the sources report them",
)
sources = Blueprint(
    "sources",
    __name__,
    url_prefix="/sources",
    description="Documents and official lists the facts come from",
)


def _missing(kind: str, key: str) -> InputError:
    return not_found(f"No {kind} {key!r}.")


@designations.route("")
@designations.arguments(DesignationListArgs, location="query")
@designations.response(200, DesignationPageSchema)
def list_designations(args: dict[str, Any]) -> dict[str, Any]:
    """Listings, filtered by jurisdiction, authority, programme, date, source, entity."""
    return queries.list_designations(get_db(), args).as_dict()


@actions.route("")
@actions.arguments(ActionListArgs, location="query")
@actions.response(200, ActionPageSchema)
def list_actions(args: dict[str, Any]) -> dict[str, Any]:
    """Announcements, with the listings they made where the targets are known."""
    return queries.list_actions(get_db(), args).as_dict()


@actions.route("/<string:action_id>")
@actions.response(200, ActionOutSchema)
@actions.alt_response(404, **problem("No such action."))
def get_action(action_id: str) -> dict[str, Any]:
    """One announcement and its evidence."""
    action = queries.get_action(get_db(), action_id)
    if action is None:
        raise _missing("action", action_id)
    return action


@sources.route("")
@sources.arguments(SourceListArgs, location="query")
@sources.response(200, SourcePageSchema)
def list_sources(args: dict[str, Any]) -> dict[str, Any]:
    """Sources, without their texts."""
    return queries.list_sources(get_db(), args).as_dict()


@sources.route("/<string:source_id>")
@sources.response(200, SourceDetailSchema)
@sources.alt_response(404, **problem("No such source."))
def get_source(source_id: str) -> dict[str, Any]:
    """A source's metadata, its full text where held, and what cites it."""
    source = queries.get_source(get_db(), source_id)
    if source is None:
        raise _missing("source", source_id)
    return source
