"""Importing packs, item versions, retirement, stored form snapshots and the audit chain (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from cbt.adapters.packfiles import load_pack
from cbt.core.errors import InvalidInput, NotFound
from cbt.db import models
from cbt.db.session import transaction
from cbt.services import audit, banks, papers
from tests.support import packs as tp

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def load(tmp_path, items=None, name="p"):
    pack, problems = load_pack(tp.write_pack(tmp_path / name, item_list=items))
    assert pack is not None, problems
    return pack


def done(session, use_case, *args, **kwargs):
    """A use case in its own unit of work, as the command line runs it."""
    with transaction(session):
        return use_case(session, *args, **kwargs)


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_import_creates_items_versions_and_blueprints(session, tmp_path):
    report = done(session, banks.import_pack, load(tmp_path), now=T0, actor="admin")
    assert len(report.created) == 52 and report.new_versions == [] and report.retired == []
    assert count(session, models.ItemVersion) == 52
    assert count(session, models.Blueprint) == 2
    again = done(session, banks.import_pack, load(tmp_path, name="q"), now=T0 + timedelta(1), actor="admin")
    assert again.created == [] and again.unchanged == 52
    assert count(session, models.ItemVersion) == 52


def test_changed_item_gets_a_new_version_and_old_versions_stay(session, tmp_path):
    done(session, banks.import_pack, load(tmp_path), now=T0, actor="admin")
    items = tp.items()
    items[0]["key"] = "C"
    items[0]["explanation"] = "更正后的解析"
    report = done(session, banks.import_pack, load(tmp_path, items, "v2"), now=T0 + timedelta(1), actor="admin")
    assert report.new_versions == ["L-S01"]
    item = session.scalar(select(models.Item).where(models.Item.key == "L-S01"))
    assert [v.number for v in item.versions] == [1, 2]
    assert item.versions[0].content["questions"][0]["key"] == ["A"]
    assert item.current.content["questions"][0]["key"] == ["C"]


def test_item_missing_from_a_later_import_is_retired_and_can_return(session, tmp_path):
    done(session, banks.import_pack, load(tmp_path), now=T0, actor="admin")
    items = [i for i in tp.items() if i["id"] != "L-S13"]
    report = done(session, banks.import_pack, load(tmp_path, items, "v2"), now=T0, actor="admin")
    assert report.retired == ["L-S13"]
    bank = banks.load_bank(session, "tiny")
    assert next(i for i in bank.items if i.id == "L-S13").retired
    report = done(session, banks.import_pack, load(tmp_path, None, "v3"), now=T0, actor="admin")
    assert report.reinstated == ["L-S13"]


def test_retire_by_hand_needs_a_reason_and_is_audited(session, tmp_path):
    done(session, banks.import_pack, load(tmp_path), now=T0, actor="admin")
    with pytest.raises(InvalidInput):
        done(session, banks.retire_item, "tiny", "L-S01", reason=" ", now=T0, actor="admin")
    with pytest.raises(NotFound):
        done(session, banks.retire_item, "tiny", "NOPE", reason="x", now=T0, actor="admin")
    done(session, banks.retire_item, "tiny", "L-S01", reason="答案有误", now=T0, actor="admin")
    bank = banks.load_bank(session, "tiny")
    assert next(i for i in bank.items if i.id == "L-S01").retired
    event = session.scalar(select(models.AuditEvent).where(models.AuditEvent.action == "item.retire"))
    assert (event.actor, event.reason, event.subject) == ("admin", "答案有误", "item:tiny/L-S01")


def test_stored_form_is_a_snapshot_that_later_imports_never_change(session, tmp_path):
    done(session, banks.import_pack, load(tmp_path), now=T0, actor="admin")
    ids, parallel = done(session, papers.store_forms, "tiny", 4, "theory", "s1", count=2, now=T0, actor="admin")
    assert len(ids) == 2
    before = papers.load_form(session, ids[0])
    assert before.to_json()["items"] == parallel.forms[0].to_json()["items"]
    items = tp.items()
    for item in items:
        if item["type"] == "single":
            item["stem"] += "（修订）"
    done(session, banks.import_pack, load(tmp_path, items, "v2"), now=T0, actor="admin")
    done(session, banks.retire_item, "tiny", before.entries[0].item.id, reason="停用", now=T0, actor="admin")
    after = papers.load_form(session, ids[0])
    assert after == before
    assert all("修订" not in q.stem for e in after.entries for q in e.item.questions)


def test_unknown_pack_and_blueprint(session, tmp_path):
    with pytest.raises(NotFound):
        banks.load_bank(session, "nope")
    done(session, banks.import_pack, load(tmp_path), now=T0, actor="admin")
    with pytest.raises(NotFound):
        done(session, papers.store_forms, "tiny", 3, "theory", "s", now=T0, actor="admin")


def test_audit_chain_detects_tampering(session, tmp_path):
    done(session, banks.import_pack, load(tmp_path), now=T0, actor="admin")
    done(session, papers.store_forms, "tiny", 4, "skill", "s", now=T0, actor="admin")
    done(session, banks.retire_item, "tiny", "L-S02", reason="x", now=T0, actor="admin")
    assert audit.verify_chain(session) is None
    first = session.scalar(select(models.AuditEvent).order_by(models.AuditEvent.id))
    session.execute(update(models.AuditEvent).where(models.AuditEvent.id == first.id).values(actor="someone"))
    session.commit()
    session.expire_all()
    assert audit.verify_chain(session).event_id == first.id


def test_list_packs(session, lsa_pack):
    done(session, banks.import_pack, lsa_pack, now=T0, actor="admin")
    (row,) = banks.list_packs(session)
    assert row["pack"] == "lsa" and row["items"] == len(lsa_pack.items)
    assert row["occupation"] == "3-01-04-03 劳动保障协理员"
