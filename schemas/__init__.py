"""marshmallow schemas: the wire and fixture contract of the registry."""

from .fixture import (
    ENTITY_TYPES,
    NAME_KINDS,
    SOURCE_KINDS,
    ActionSchema,
    AddressSchema,
    DesignationSchema,
    EntityPatchSchema,
    EntitySchema,
    EvidenceSchema,
    FixtureSchema,
    IdentifierSchema,
    NameSchema,
    SourceSchema,
)

__all__ = [
    "ENTITY_TYPES",
    "NAME_KINDS",
    "SOURCE_KINDS",
    "ActionSchema",
    "AddressSchema",
    "DesignationSchema",
    "EntityPatchSchema",
    "EntitySchema",
    "EvidenceSchema",
    "FixtureSchema",
    "IdentifierSchema",
    "NameSchema",
    "SourceSchema",
]
