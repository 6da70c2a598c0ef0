"""The app factory: configuration from the environment at creation, JSON errors, pages render."""

from __future__ import annotations

from cbt.app import create_app
from cbt.config import Config
from cbt.db import migrate
from cbt.runtime import of as runtime_of


def test_config_is_read_when_created_not_at_import(tmp_path, monkeypatch):
    def from_env():
        app = create_app()  # configured from the environment as it is now
        runtime_of(app).sweeper.stop()  # no background sweeping against an empty database
        return app

    monkeypatch.setenv("CBT_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("CBT_DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.delenv("CBT_SECRET_KEY", raising=False)
    app = from_env()
    assert str(runtime_of(app).engine.url).endswith("a.db")
    key_file = tmp_path / "inst" / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert from_env().config["SECRET_KEY"] == app.config["SECRET_KEY"], "generated once, then kept"
    monkeypatch.setenv("CBT_SECRET_KEY", "from-env")
    assert from_env().config["SECRET_KEY"] == "from-env"
    assert runtime_of(from_env()).config.message_queue is None


def test_pages_and_errors(config):
    app = create_app(config)
    migrate.upgrade(runtime_of(app).engine)
    client = app.test_client()
    assert client.get("/healthz").json["status"] == "ok"
    page = client.get("/")
    assert page.status_code == 200 and "考生登录" in page.get_data(as_text=True)
    assert page.headers["X-Frame-Options"] == "DENY"
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert missing.json == {"error": "not_found", "message": "页面或资源不存在"}
    assert "页面或资源不存在" in client.get("/nothing").get_data(as_text=True)


def test_default_database_is_sqlite_in_instance(tmp_path):
    config = Config.from_env({"CBT_INSTANCE_PATH": str(tmp_path)})
    assert config.database_url == f"sqlite:///{tmp_path / 'cbt.db'}"


def test_signal_thresholds_come_from_the_environment(tmp_path):
    import pytest

    env = {"CBT_INSTANCE_PATH": str(tmp_path), "CBT_SIGNAL_THRESHOLDS": '{"tab_hidden": 10}'}
    assert Config.from_env(env).signal_thresholds == {"tab_hidden": 10.0}
    for bad in ("{", '{"tab_hidden": -1}', "[1]"):
        with pytest.raises(ValueError, match="CBT_SIGNAL_THRESHOLDS"):
            Config.from_env({**env, "CBT_SIGNAL_THRESHOLDS": bad})


def test_ping_seconds_come_from_the_environment(tmp_path):
    import pytest

    env = {"CBT_INSTANCE_PATH": str(tmp_path)}
    assert Config.from_env(env).ping == (25, 20)
    assert Config.from_env({**env, "CBT_PING_INTERVAL": "10", "CBT_PING_TIMEOUT": "5"}).ping == (10, 5)
    for name in ("CBT_PING_INTERVAL", "CBT_PING_TIMEOUT"):
        for bad in ("0", "0.5", "-3", "3601", "soon"):
            with pytest.raises(ValueError, match=f"{name} must be whole seconds"):
                Config.from_env({**env, name: bad})
