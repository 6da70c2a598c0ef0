"""The command line: help everywhere, exit codes, atomic import, the stable JSON of paper assemble."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from cbt.cli import main
from cbt.config import PROJECT_ROOT
from cbt.db import models
from cbt.db.session import make_engine, make_session_factory
from tests.conftest import LSA
from tests.support import packs as tp

COMMANDS = [
    [],
    ["init"],
    ["pack"],
    ["pack", "validate"],
    ["pack", "import"],
    ["pack", "list"],
    ["item", "retire"],
    ["paper", "assemble"],
    ["demo"],
    ["staff", "reset-password"],
    ["staff", "deactivate"],
    ["audit", "verify"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_every_command_has_help(command):
    result = subprocess.run(
        [sys.executable, "-m", "cbt", *command, "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "usage: python -m cbt" in result.stdout


def test_unknown_command_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "cbt", "frobnicate"], cwd=PROJECT_ROOT, capture_output=True)
    assert result.returncode == 2


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def db_count(env, model):
    engine = make_engine(os.environ["CBT_DATABASE_URL"])
    with make_session_factory(engine)() as s:
        n = s.scalar(select(func.count()).select_from(model))
    engine.dispose()
    return n


def test_commands_before_init_say_what_to_do(cli_env, capsys):
    code, _, err = run(capsys, "pack", "list")
    assert code == 1 and "python -m cbt init" in err


def test_validate_reports_and_fails(cli_env, capsys, tmp_path):
    items = tp.items()
    items[0]["key"] = "E"
    bad = tp.write_pack(tmp_path / "bad", item_list=items)
    code, out, err = run(capsys, "pack", "validate", str(bad))
    assert code == 1
    assert "items/bank.yaml" in out and "L-S01" in out and "key_not_an_option" in out
    assert "未做任何更改" in err
    code, out, _ = run(capsys, "pack", "validate", str(bad), "--json")
    assert json.loads(out)["packs"][0]["problems"][0]["code"] == "key_not_an_option"


def test_import_is_atomic_across_packs(cli_env, capsys, tmp_path):
    assert run(capsys, "init")[0] == 0
    good = tp.write_pack(tmp_path / "good")
    items = tp.items()
    items[5]["area"] = "nowhere"
    bad = tp.write_pack(tmp_path / "bad", item_list=items)
    code, _, _ = run(capsys, "pack", "import", str(good), str(bad))
    assert code == 1
    assert db_count(cli_env, models.Item) == 0
    assert db_count(cli_env, models.AuditEvent) == 0
    code, out, _ = run(capsys, "pack", "import", str(good))
    assert code == 0 and "新增 52 题" in out
    assert db_count(cli_env, models.Item) == 52


def test_assemble_json_from_a_folder(capsys):
    code, out, _ = run(
        capsys, "paper", "assemble", "--pack", str(LSA), "--level", "4", "--part", "theory", "--seed", "7", "--json"
    )
    assert code == 0
    form = json.loads(out)
    assert form["total_points"] == 100
    assert sum(i["points"] for i in form["items"]) == 100
    assert form["totals_by_area"] == {
        "ethics": 10,
        "basics": 25,
        "platform": 15,
        "employment": 15,
        "social_insurance": 15,
        "retirement": 10,
        "labour_relations": 10,
    }
    assert all({"id", "type", "area", "points"} <= set(i) for i in form["items"])
    again = run(
        capsys, "paper", "assemble", "--pack", str(LSA), "--level", "4", "--part", "theory", "--seed", "7", "--json"
    )
    assert json.loads(again[1]) == form


def test_assemble_skill_json_has_sub_questions(capsys):
    _code, out, _ = run(
        capsys, "paper", "assemble", "--pack", str(LSA), "--level", "3", "--part", "skill", "--seed", "1", "--json"
    )
    form = json.loads(out)
    assert all(i["type"] == "case" and i["questions"] for i in form["items"])
    assert sum(q["points"] for i in form["items"] for q in i["questions"]) == 100


def test_store_parallel_forms_and_retire(cli_env, capsys):
    run(capsys, "init")
    assert run(capsys, "pack", "import", str(LSA))[0] == 0
    code, out, _ = run(
        capsys,
        "paper",
        "assemble",
        "--pack",
        "lsa",
        "--level",
        "3",
        "--part",
        "theory",
        "--seed",
        "9",
        "--forms",
        "2",
        "--store",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert [f["label"] for f in data["forms"]] == ["A", "B"]
    assert all(f["form_id"] for f in data["forms"])
    assert data["parallel"]["max_overlap"] <= 0.5
    assert db_count(cli_env, models.Form) == 2
    code, _, err = run(capsys, "item", "retire", "NOPE", "--pack", "lsa", "--reason", "x")
    assert code == 1 and "item_not_found" in err
    assert run(capsys, "item", "retire", "ETH-S001", "--pack", "lsa", "--reason", "待修订")[0] == 0
    assert run(capsys, "audit", "verify")[0] == 0


def test_store_needs_an_imported_pack(capsys):
    code, _, err = run(
        capsys, "paper", "assemble", "--pack", str(LSA), "--level", "4", "--part", "skill", "--seed", "1", "--store"
    )
    assert code == 1 and "pack import" in err


def test_assemble_unknown_blueprint(capsys, tmp_path):
    code, _, err = run(
        capsys,
        "paper",
        "assemble",
        "--pack",
        str(tp.write_pack(tmp_path / "p")),
        "--level",
        "3",
        "--part",
        "theory",
        "--seed",
        "1",
    )
    assert code == 1 and "蓝图" in err


def test_demo_creates_a_batch_open_now_and_prints_accounts(cli_env, capsys):
    code, out, _ = run(capsys, "demo", "--candidates", "4", "--minutes", "30", "--json")
    assert code == 0
    demo = json.loads(out)
    assert demo["mode"] == "practice" and len(demo["candidates"]) == 4
    assert set(demo["candidates"][0]) >= {"ticket", "id_number", "name"}
    assert db_count(cli_env, models.Attempt) == 8, "each candidate has a theory and a skill attempt"
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "认定考试" in out and demo["candidates"][0]["id_number"] in out
    code, out, _ = run(capsys, "pack", "list", "--json")
    assert json.loads(out)["packs"][0]["items"] > 150
    assert run(capsys, "demo", "--candidates", "0")[0] == 1


def test_demo_keep_reprints_the_same_batch_and_accounts_until_it_ends(cli_env, capsys, monkeypatch):
    """`make run` twice: the second printout is the first one (passwords still valid), one batch."""
    from datetime import timedelta

    from cbt import clock

    code, first, _ = run(capsys, "demo", "--keep")
    assert code == 0 and "沿用" not in first
    code, second, _ = run(capsys, "demo", "--keep")
    assert code == 0 and second.startswith("沿用上次创建的演示批次")
    assert first in second, "the same batch, tickets and staff passwords as the first run"
    assert db_count(cli_env, models.Batch) == 1
    password = next(line.split()[1] for line in first.splitlines() if "demo-admin" in line)
    engine = make_engine(os.environ["CBT_DATABASE_URL"])
    with make_session_factory(engine)() as s:
        from werkzeug.security import check_password_hash

        row = s.scalar(select(models.Staff).where(models.Staff.username == "demo-admin"))
        assert check_password_hash(row.password_hash, password), "the printed password still signs in"
    engine.dispose()

    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(hours=4))  # the demo's sessions are over
    code, third, _ = run(capsys, "demo", "--keep")
    assert code == 0 and third.startswith("上次的演示批次") and "已新建演示批次" in third
    assert db_count(cli_env, models.Batch) == 2
    engine = make_engine(os.environ["CBT_DATABASE_URL"])
    with make_session_factory(engine)() as s:
        names = s.scalars(select(models.Batch.name)).all()
    engine.dispose()
    assert len(set(names)) == 2, "no two batches share a name"


def test_the_page_scripts_share_the_cores_names(capsys):
    """static/js/states.js is what python -m cbt js-constants writes from cbt.core, byte for byte."""
    from cbt.cli.constants import TARGET, source

    assert TARGET.read_text(encoding="utf-8") == source(), "run: python -m cbt js-constants"
