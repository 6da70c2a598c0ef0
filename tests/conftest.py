"""Shared fixtures: a fresh database per test (SQLite file, or a fresh PostgreSQL database)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cbt.adapters.packfiles import load_pack
from cbt.config import BUNDLED_PACKS, Config
from cbt.db import migrate
from cbt.db.session import make_engine, make_session_factory
from tests.support.exam import AUDIT_KEY
from tests.support.postgres import PostgresServer, fresh_database, pg_bin

LSA = BUNDLED_PACKS / "lsa"


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server for the whole run; skipped only when not required and not installed."""
    if pg_bin() is None:
        if os.environ.get("CBT_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required (CBT_REQUIRE_POSTGRES) but not installed: apt-get install postgresql")
        pytest.skip("PostgreSQL server not installed")
    server = PostgresServer()
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cbt.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with make_session_factory(engine, AUDIT_KEY)() as s:
        yield s


@pytest.fixture(scope="session")
def lsa_pack():
    pack, problems = load_pack(LSA)
    assert pack is not None, "\n".join(map(str, problems))
    return pack


@pytest.fixture
def config(tmp_path) -> Config:
    return Config.from_env(
        {"CBT_INSTANCE_PATH": str(tmp_path / "instance"), "CBT_DATABASE_URL": f"sqlite:///{tmp_path / 'web.db'}"},
        testing=True,
        background=False,
    )


@pytest.fixture
def cli_env(tmp_path, monkeypatch) -> Path:
    """Point the CLI (in-process) at a fresh SQLite database."""
    monkeypatch.setenv("CBT_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("CBT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


@pytest.fixture(scope="module")
def redis_server():
    """A throw-away redis-server (Debian's package) for the module's tests."""
    import shutil

    from tests.support.redis import RedisServer

    if shutil.which("redis-server") is None:
        if os.environ.get("CBT_REQUIRE_REDIS"):
            pytest.fail("redis-server is required (CBT_REQUIRE_REDIS) but not installed: apt-get install redis-server")
        pytest.skip("redis-server not installed")
    server = RedisServer()
    yield server
    server.stop()
