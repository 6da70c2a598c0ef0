"""Item-bank use cases: import a validated pack, retire an item, list packs, load a bank for assembly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cbt.core import packs as core_packs
from cbt.core.blueprint import Blueprint as CoreBlueprint
from cbt.core.errors import InvalidInput, NotFound
from cbt.core.items import Item as CoreItem
from cbt.db import models
from cbt.services import audit


@dataclass
class ImportReport:
    pack: str
    version: str
    created: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: int = 0
    retired: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "pack": self.pack,
            "version": self.version,
            "created": len(self.created),
            "new_versions": self.new_versions,
            "unchanged": self.unchanged,
            "retired": self.retired,
            "reinstated": self.reinstated,
        }


def import_pack(session: Session, pack: core_packs.Pack, *, now: datetime, actor: str) -> ImportReport:
    """Import a pack that validated without errors (in the caller's transaction).

    New items get version 1; an item whose content hash changed gets a new version (old versions are
    never touched); items missing from this import, or marked retired, are retired.
    """
    report = ImportReport(pack.code, pack.version)
    row = session.scalar(select(models.Pack).where(models.Pack.code == pack.code))
    if row is None:
        row = models.Pack(code=pack.code, meta={}, imported_at=now)
        session.add(row)
    row.version, row.occupation_code, row.occupation_name = pack.version, pack.occupation_code, pack.occupation_name
    row.meta, row.imported_at = pack.meta(), now
    session.flush()
    existing = {
        i.key: i
        for i in session.scalars(
            select(models.Item).where(models.Item.pack_id == row.id).options(selectinload(models.Item.versions))
        )
    }
    for item in pack.items:
        db_item = existing.pop(item.id, None)
        if db_item is None:
            db_item = models.Item(pack_id=row.id, key=item.id, type=item.type, versions=[])
            session.add(db_item)
            report.created.append(item.id)
            _add_version(db_item, item, 1, pack.version, now)
        elif db_item.current.content_hash != item.content_hash:
            db_item.type = item.type
            _add_version(db_item, item, db_item.current.number + 1, pack.version, now)
            report.new_versions.append(item.id)
        else:
            report.unchanged += 1
        if item.retired and db_item.retired_at is None:
            db_item.retired_at, db_item.retired_reason = now, "题库中标记为停用（retired: true）"
            report.retired.append(item.id)
        elif not item.retired and db_item.retired_at is not None:
            db_item.retired_at = db_item.retired_reason = None
            report.reinstated.append(item.id)
    for key, db_item in existing.items():
        if db_item.retired_at is None:
            db_item.retired_at, db_item.retired_reason = now, f"题库 {pack.version} 版中已删除"
            report.retired.append(key)
    blueprints = {(b.level, b.part): b for b in row.blueprints}
    for bp in pack.blueprints:
        db_bp = blueprints.pop(bp.key, None)
        if db_bp is None:
            session.add(models.Blueprint(pack=row, level=bp.level, part=bp.part, content=bp.to_dict(), updated_at=now))
        elif db_bp.content != bp.to_dict():
            db_bp.content, db_bp.updated_at = bp.to_dict(), now
    for stale in blueprints.values():
        session.delete(stale)
    audit.record(
        session, at=now, actor=actor, action="pack.import", subject=f"pack:{pack.code}", detail=report.as_dict()
    )
    return report


def _add_version(db_item: models.Item, item: CoreItem, number: int, pack_version: str, now: datetime) -> None:
    db_item.versions.append(
        models.ItemVersion(
            number=number,
            content_hash=item.content_hash,
            area=item.area,
            difficulty=item.difficulty,
            levels=list(item.levels),
            content=item.content(),
            pack_version=pack_version,
            created_at=now,
        )
    )


def retire_item(session: Session, pack_code: str, item_key: str, *, reason: str, now: datetime, actor: str) -> None:
    """Keep an item out of new papers (papers already assembled are unaffected)."""
    if not reason.strip():
        raise InvalidInput("停用题目必须说明原因", code="reason_required")
    item = session.scalar(
        select(models.Item).join(models.Pack).where(models.Pack.code == pack_code, models.Item.key == item_key)
    )
    if item is None:
        raise NotFound(f"题库 {pack_code} 中没有题目 {item_key}", code="item_not_found")
    if item.retired_at is None:
        item.retired_at, item.retired_reason = now, reason
        audit.record(
            session,
            at=now,
            actor=actor,
            action="item.retire",
            subject=f"item:{pack_code}/{item_key}",
            reason=reason,
        )


@dataclass(frozen=True)
class Bank:
    """A pack's current, usable bank: core items (current versions) and blueprints."""

    pack_id: int
    code: str
    version: str
    areas: dict[str, str]
    items: tuple[CoreItem, ...]
    version_ids: dict[str, int]  # item id -> ItemVersion.id of the current version
    blueprints: tuple[CoreBlueprint, ...]

    def blueprint(self, level: int, part: str) -> CoreBlueprint:
        for bp in self.blueprints:
            if bp.key == (level, part):
                return bp
        raise NotFound(f"题库 {self.code} 没有 {level} 级 {part} 的组卷蓝图", code="blueprint_not_found")


def load_bank(session: Session, pack_code: str) -> Bank:
    row = session.scalar(select(models.Pack).where(models.Pack.code == pack_code))
    if row is None:
        raise NotFound(
            f"没有代码为 {pack_code} 的题库，请先导入（python -m cbt pack import PATH）", code="pack_not_found"
        )
    items, version_ids = [], {}
    for db_item in session.scalars(
        select(models.Item).where(models.Item.pack_id == row.id).options(selectinload(models.Item.versions))
    ):
        current = db_item.current
        items.append(CoreItem.from_content(current.content, retired=db_item.retired_at is not None))
        version_ids[db_item.key] = current.id
    return Bank(
        pack_id=row.id,
        code=row.code,
        version=row.version,
        areas={a["code"]: a["name"] for a in row.meta["areas"]},
        items=tuple(items),
        version_ids=version_ids,
        blueprints=tuple(CoreBlueprint.from_dict(b.content) for b in row.blueprints),
    )


def list_packs(session: Session) -> list[dict[str, object]]:
    out = []
    for row in session.scalars(select(models.Pack).order_by(models.Pack.code)):
        bank = load_bank(session, row.code)
        active = [i for i in bank.items if not i.retired]
        by_type: dict[str, int] = {}
        for item in active:
            by_type[item.type] = by_type.get(item.type, 0) + 1
        out.append(
            {
                "pack": row.code,
                "version": row.version,
                "occupation": f"{row.occupation_code} {row.occupation_name}",
                "items": len(active),
                "retired": len(bank.items) - len(active),
                "by_type": by_type,
                "blueprints": [f"{b.level}/{b.part}" for b in bank.blueprints],
                "imported_at": row.imported_at.isoformat(),
            }
        )
    return out
