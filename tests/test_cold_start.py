"""What `registry screen` costs before its first answer (issue 14: start in a second)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_registry_screen_imports_no_web_framework() -> None:
    # Everything `registry screen` imports before it screens (bench.cold_start): the web
    # application (Flask, the API's modules, the web pages) is not among them.
    code = (
        "import sys\n"
        "import registry.cli, registry.screening, registry.screen_csv, registry.index_snapshot\n"
        "import registry.monitoring.audit\n"
        "heavy = sorted(m for m in ('flask', 'werkzeug', 'jinja2', 'flask_smorest', 'registry.app',"
        " 'registry.api', 'registry.web', 'registry.loader') if m in sys.modules)\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
