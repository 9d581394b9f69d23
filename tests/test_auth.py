"""API keys: writes need one, scopes are enforced, secrets are never stored or logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from registry.cli import main

from .conftest import client_with_key, make_app
from .test_api_errors import NEW_ENTITY


def test_reads_are_open_and_writes_need_a_write_key(
    anon_client: FlaskClient, app: Flask, keys: dict[str, str]
) -> None:
    assert anon_client.get("/entities").status_code == 200
    refused = anon_client.post("/entities", json=NEW_ENTITY)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client_with_key(app, keys["read"]).post("/entities", json=NEW_ENTITY).status_code == 403
    assert client_with_key(app, keys["write"]).post("/entities", json=NEW_ENTITY).status_code == 201
    assert (
        client_with_key(app, keys["admin"])
        .post("/entities", json={**NEW_ENTITY, "id": "by-admin"})
        .status_code
        == 201
    )


def test_reads_can_be_made_to_need_a_key(loaded_db_path: Path, keys: dict[str, str]) -> None:
    app = make_app(loaded_db_path, require_key_for_reads=True)
    assert app.test_client().get("/entities").status_code == 401
    assert client_with_key(app, keys["read"]).get("/entities").status_code == 200
    # The health check and the API description stay public.
    assert app.test_client().get("/healthz").status_code == 200
    assert app.test_client().get("/openapi.json").status_code == 200


def test_admin_creates_lists_and_revokes_keys_over_http(app: Flask, keys: dict[str, str]) -> None:
    admin = client_with_key(app, keys["admin"])
    created = admin.post("/keys", json={"name": "ci bot", "scope": "write"})
    assert created.status_code == 201
    secret = created.get_json()["key"]
    listed = admin.get("/keys").get_json()
    assert any(k["id"] == created.get_json()["id"] for k in listed)
    assert secret not in str(listed)
    bot = client_with_key(app, secret)
    assert bot.post("/entities", json=NEW_ENTITY).status_code == 201
    assert admin.delete(f"/keys/{created.get_json()['id']}").status_code == 204
    assert bot.post("/entities", json=NEW_ENTITY).status_code == 401
    assert bot.get("/entities").status_code == 401  # a revoked key is refused everywhere
    assert admin.delete(f"/keys/{created.get_json()['id']}").status_code == 404
    own_id = keys["admin"].split("_")[1]
    assert admin.delete(f"/keys/{own_id}").status_code == 409  # no locking yourself out


def test_cli_prints_the_key_once_and_stores_only_a_hash(tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "keys.db"
    assert runner.invoke(main, ["init", "--db", str(db)]).exit_code == 0
    made = runner.invoke(
        main, ["keys", "create", "--name", "analyst", "--scope", "read", "--db", str(db)]
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("rk_")
    listed = runner.invoke(main, ["keys", "list", "--db", str(db)])
    key_id = secret.split("_")[1]
    assert key_id in listed.stdout and secret not in listed.stdout
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in raw and secret.split("_", 2)[2].encode() not in raw
    revoked = runner.invoke(main, ["keys", "revoke", key_id, "--db", str(db)])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(main, ["keys", "list", "--db", str(db)]).stdout


def test_no_key_ever_appears_in_a_log(
    loaded_db_path: Path, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(loaded_db_path)
    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom", methods=["POST"])
    def boom() -> str:
        raise RuntimeError("failure while a key is in use")

    caplog.set_level(logging.DEBUG)
    writer = client_with_key(app, keys["write"])
    writer.post("/entities", json=NEW_ENTITY)
    assert writer.post("/boom").status_code == 500
    client_with_key(app, keys["write"] + "x").get("/entities")  # a wrong key
    assert "failure while a key is in use" in caplog.text  # the log did capture the error
    for secret in keys.values():
        assert secret not in caplog.text
        assert secret.split("_", 2)[2] not in caplog.text
