"""One-off: convert rigour's org_types.yml into registry/data/org_types.json.

Run once, by hand, with any Python that has PyYAML (the service itself never
reads YAML nor ../shared):

    python3 scripts/convert_org_types.py ../shared/data/matching/rigour_org_types.yml

Each legal-form group becomes ``[compare_key, generic_class, [aliases...]]``;
the display and compare spellings are added to the aliases, duplicates that
differ only by case are dropped. Policy (which aliases are too ambiguous to
use) lives in registry/matching/legal_forms.py, not here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml  # type: ignore[import-untyped]

SOURCE = {
    "name": "org_types.yml",
    "repository": "https://github.com/opensanctions/rigour",
    "path": "resources/names/org_types.yml",
    "commit": "8f4044dd",
    "licence": "MIT",
    "copyright": "Copyright (c) OpenSanctions Datenbanken GmbH and rigour contributors",
    "note": "Converted by scripts/convert_org_types.py; content unchanged apart from "
    "case-insensitive de-duplication of aliases.",
}


def main(path: str) -> None:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    groups = []
    for item in data["types"]:
        display = (item.get("display") or "").strip()
        compare = (item.get("compare") or "").strip()
        generic = (item.get("generic") or "").strip()
        names = [display, compare, *(str(a) for a in item.get("aliases") or [])]
        seen: set[str] = set()
        aliases = []
        for name in names:
            name = name.strip()
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                aliases.append(name)
        key = compare or display or aliases[0]
        groups.append([key, generic, aliases])
    out = Path(__file__).resolve().parents[1] / "registry" / "data" / "org_types.json"
    payload = {"source": SOURCE, "types": groups}
    out.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {out} ({len(groups)} groups)")


if __name__ == "__main__":
    main(sys.argv[1])
