"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from .api import register_api
from .api.auth import register_auth
from .api.common import RegistryRequest, StrictJSONProvider, close_db
from .api.headers import register_headers
from .config import Settings
from .db import connect, migrate
from .web import register_web


class RegistryFlask(Flask):
    json_provider_class = StrictJSONProvider
    request_class = RegistryRequest


def create_app(settings: Settings | None = None, **config: Any) -> Flask:
    settings = settings or Settings.from_env()
    app = RegistryFlask(__name__)
    app.config.update(
        REGISTRY_SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE="Sanctions registry",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        **config,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    logging.getLogger("registry").setLevel(settings.log_level)
    # Create or migrate the database once, before the first request.
    db = connect(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        migrate(db)
    finally:
        db.close()
    app.teardown_appcontext(close_db)
    register_auth(app)
    register_api(app)
    register_web(app, settings)
    register_headers(app)
    return app
