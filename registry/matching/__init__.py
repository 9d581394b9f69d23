"""Name matching for sanctions screening: normalise, compare, index.

Public API: `normalize_name`, `compare_names` / `NameScore`, `DEFAULT_THRESHOLD`,
`NameIndex` / `Match`. Pure Python; no web framework, no database.
"""

from .index import Match, NameIndex
from .normalize import normalize_name
from .scorer import DEFAULT_THRESHOLD, NameScore, compare_names

__all__ = [
    "DEFAULT_THRESHOLD",
    "Match",
    "NameIndex",
    "NameScore",
    "compare_names",
    "normalize_name",
]
