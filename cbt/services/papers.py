"""Paper use cases: assemble parallel forms from a stored bank and keep them as snapshots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cbt.core.assembly import Form, FormEntry, ParallelForms, assemble_parallel
from cbt.core.blueprint import Blueprint
from cbt.core.errors import NotFound
from cbt.core.items import Item
from cbt.db import models
from cbt.services import audit
from cbt.services.banks import load_bank


def store_forms(
    session: Session,
    pack_code: str,
    level: int,
    part: str,
    seed: str,
    count: int = 2,
    max_overlap: float = 0.5,
    *,
    now: datetime,
    actor: str,
) -> tuple[list[int], ParallelForms]:
    """Assemble ``count`` parallel forms and store each as a snapshot of the item versions it holds.

    Returns the new form ids and the assembled forms (with their overlap and difficulty report).
    """
    bank = load_bank(session, pack_code)
    blueprint = bank.blueprint(level, part)
    parallel = assemble_parallel(blueprint, bank.items, seed, count, max_overlap=max_overlap)
    ids = []
    for form in parallel.forms:
        row = models.Form(
            pack_id=bank.pack_id,
            level=level,
            part=part,
            label=form.label,
            seed=str(seed),
            blueprint=blueprint.to_dict(),
            summary={**form.to_json(), "parallel": parallel.report()},
            created_at=now,
            created_by=actor,
            entries=[
                models.FormItem(position=n, item_version_id=bank.version_ids[e.item.id], points=e.points)
                for n, e in enumerate(form.entries)
            ],
        )
        session.add(row)
        session.flush()
        ids.append(row.id)
    audit.record(
        session,
        at=now,
        actor=actor,
        action="paper.assemble",
        subject=f"pack:{pack_code}/{level}/{part}",
        detail={"form_ids": ids, "seed": str(seed), **parallel.report()},
    )
    return ids, parallel


def load_form(session: Session, form_id: int) -> Form:
    """Rebuild a stored form from its snapshot: the exact item versions and points it was built with."""
    row = session.scalar(
        select(models.Form)
        .where(models.Form.id == form_id)
        .options(selectinload(models.Form.entries).selectinload(models.FormItem.version))
    )
    if row is None:
        raise NotFound(f"没有编号为 {form_id} 的试卷", code="form_not_found")
    entries = tuple(FormEntry(Item.from_content(e.version.content), e.points) for e in row.entries)
    return Form(Blueprint.from_dict(row.blueprint), row.seed, row.label, entries)
