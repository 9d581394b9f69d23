"""Web pages for the people who review matches: screen, read the evidence,
decide, follow the lists; and the API docs.

Server-rendered with Flask's own Jinja templates and one stylesheet: no
front-end build, no script on the pages (Swagger UI on /docs aside), every
asset served by the service itself. Each page is a thin view over the same
functions the API uses. The pages sign in with an API key kept in the session
cookie (see session.py); api.auth leaves their requests to them.
"""

from __future__ import annotations

from flask import Flask

from ..config import Settings
from ..db import connect
from . import decide, docs, entities, lists, screen
from .pages import page
from .session import session_secret

for _child in (screen.bp, entities.bp, decide.bp, lists.bp, docs.bp):
    page.register_blueprint(_child)


def register_web(app: Flask, settings: Settings) -> None:
    db = connect(settings.db_path, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        app.secret_key = app.config.get("SECRET_KEY") or session_secret(db)
    finally:
        db.close()
    app.config.update(
        SESSION_COOKIE_NAME="registry_session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
    # Templates without the blank lines their block tags would leave.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.register_blueprint(page)
