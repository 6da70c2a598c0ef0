"""Paper assembly: forms that meet a blueprint exactly, parallel forms, per-candidate order.

A :class:`Form` holds, for every (type, area) cell of the blueprint's quotas, exactly the number of
scored questions it requires, so every area earns exactly its weight in points. Assembly is
deterministic for a given seed. Cases are drawn whole: the case section is filled by a bounded
search for a set of cases whose sub-questions match the area quotas exactly.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from cbt.core.blueprint import Blueprint, quotas, shortages
from cbt.core.errors import AssemblyError
from cbt.core.items import TYPE_NAMES, Item

FORM_LABELS = "ABCDEFGH"
CASE_SEARCH_LIMIT = 200_000  # nodes; a bank that needs more than this is far too tight anyway


@dataclass(frozen=True)
class FormEntry:
    item: Item
    points: int  # per scored question

    @property
    def total(self) -> int:
        return self.points * len(self.item.questions)


@dataclass(frozen=True)
class Form:
    blueprint: Blueprint
    seed: str
    label: str
    entries: tuple[FormEntry, ...]

    @property
    def item_ids(self) -> frozenset[str]:
        return frozenset(e.item.id for e in self.entries)

    @property
    def total_points(self) -> int:
        return sum(e.total for e in self.entries)

    def totals_by_area(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for e in self.entries:
            for q in e.item.questions:
                totals[q.area] = totals.get(q.area, 0) + e.points
        return totals

    def counts(self) -> dict[tuple[str, str], int]:
        """Scored questions per (type, area): equal to the blueprint's quotas."""
        counts: dict[tuple[str, str], int] = {}
        for e in self.entries:
            for area, n in e.item.areas().items():
                counts[(e.item.type, area)] = counts.get((e.item.type, area), 0) + n
        return counts

    def mean_difficulty(self) -> float:
        """Points-weighted mean difficulty (1-5)."""
        return sum(e.item.difficulty * e.total for e in self.entries) / self.total_points

    def to_json(self) -> dict[str, object]:
        """The stable JSON shape scripts rely on (``paper assemble --json``)."""
        items = []
        for e in self.entries:
            entry: dict[str, object] = {
                "id": e.item.id,
                "type": e.item.type,
                "area": e.item.area,
                "points": e.total,
                "difficulty": e.item.difficulty,
                "version": e.item.content_hash[:12],
            }
            if e.item.is_case:
                entry["questions"] = [{"id": q.id, "area": q.area, "points": e.points} for q in e.item.questions]
            items.append(entry)
        by_type: dict[str, int] = {}
        for e in self.entries:
            by_type[e.item.type] = by_type.get(e.item.type, 0) + e.total
        return {
            "level": self.blueprint.level,
            "part": self.blueprint.part,
            "label": self.label,
            "seed": self.seed,
            "total_points": self.total_points,
            "mean_difficulty": round(self.mean_difficulty(), 3),
            "items": items,
            "totals_by_area": self.totals_by_area(),
            "totals_by_type": by_type,
        }


def overlap(a: Form, b: Form) -> float:
    """Share of a form's points carried by items that the other form holds too (0..1)."""
    shared = a.item_ids & b.item_ids
    return sum(e.total for e in a.entries if e.item.id in shared) / a.total_points


def assemble(
    bp: Blueprint,
    items: Iterable[Item],
    seed: str | int,
    *,
    label: str = "A",
    usage: Mapping[str, int] | None = None,
) -> Form:
    """Assemble one form meeting ``bp`` exactly, deterministically for ``seed``.

    ``usage`` counts how often each item was already used (by sibling forms): less-used items are
    preferred, which is how parallel forms keep their overlap low.

    :raises AssemblyError: when the bank cannot satisfy the blueprint (the detail says which cells).
    """
    bank = sorted((i for i in items if i.serves(bp.level)), key=lambda i: i.id)
    short = shortages(bp, bank)
    if short:
        raise AssemblyError(
            "题库不足以按蓝图组卷：" + "；".join(f"{TYPE_NAMES[t]}/{a} 需 {n} 题，仅有 {h} 题" for t, a, n, h in short),
            code="bank_short",
            detail=[{"type": t, "area": a, "needed": n, "available": h} for t, a, n, h in short],
        )
    rng = random.Random(f"{seed}/{label}")
    tiebreak = {item.id: rng.random() for item in bank}
    usage = usage or {}

    def preference(item: Item) -> tuple[int, float]:
        return (usage.get(item.id, 0), tiebreak[item.id])

    cells = quotas(bp)
    entries: list[FormEntry] = []
    for section in bp.sections:
        need = {area: n for (type_, area), n in cells.items() if type_ == section.type}
        pool = [i for i in bank if i.type == section.type]
        if section.type == "case":
            chosen = _choose_cases(sorted(pool, key=preference), need, bp)
        else:
            chosen = []
            for area, n in need.items():
                chosen += sorted((i for i in pool if i.area == area), key=preference)[:n]
        entries += [FormEntry(item, section.points) for item in chosen]
    return Form(bp, str(seed), label, tuple(entries))


def _choose_cases(pool: Sequence[Item], need: Mapping[str, int], bp: Blueprint) -> list[Item]:
    """Depth-first search, in preference order, for cases whose sub-questions meet ``need`` exactly."""
    usable = [c for c in pool if set(c.areas()) <= {a for a, n in need.items() if n}]
    vectors = [c.areas() for c in usable]
    # available[i][area]: sub-questions in that area among usable[i:], for pruning
    available: list[dict[str, int]] = [dict.fromkeys(need, 0) for _ in range(len(usable) + 1)]
    for i in range(len(usable) - 1, -1, -1):
        available[i] = dict(available[i + 1])
        for area, n in vectors[i].items():
            available[i][area] += n
    remaining = dict(need)
    chosen: list[int] = []
    dead: set[tuple[int, tuple[int, ...]]] = set()  # (position, what is still needed) known to fail
    nodes = 0

    def search(i: int) -> bool:
        nonlocal nodes
        nodes += 1
        if nodes > CASE_SEARCH_LIMIT:
            return False
        if not any(remaining.values()):
            return True
        state = (i, tuple(remaining.values()))
        if state in dead or i == len(usable) or any(available[i][a] < n for a, n in remaining.items()):
            return False
        vec = vectors[i]
        if all(remaining[a] >= n for a, n in vec.items()):
            for a, n in vec.items():
                remaining[a] -= n
            chosen.append(i)
            if search(i + 1):
                return True
            chosen.pop()
            for a, n in vec.items():
                remaining[a] += n
        if search(i + 1):
            return True
        dead.add(state)
        return False

    if not search(0):
        raise AssemblyError(
            f"{bp.label}：题库中的案例无法组合出各知识领域恰好所需的小题数 {dict(need)}",
            code="cases_unsatisfiable",
        )
    return [usable[i] for i in chosen]


@dataclass(frozen=True)
class ParallelForms:
    forms: tuple[Form, ...]

    def overlaps(self) -> dict[tuple[str, str], float]:
        return {(a.label, b.label): overlap(a, b) for a, b in combinations(self.forms, 2)}

    def max_overlap(self) -> float:
        return max(self.overlaps().values(), default=0.0)

    def difficulty_spread(self) -> float:
        means = [f.mean_difficulty() for f in self.forms]
        return max(means) - min(means)

    def report(self) -> dict[str, object]:
        return {
            "forms": [
                {"label": f.label, "items": len(f.entries), "mean_difficulty": round(f.mean_difficulty(), 3)}
                for f in self.forms
            ],
            "overlap": {f"{a}-{b}": round(v, 3) for (a, b), v in self.overlaps().items()},
            "max_overlap": round(self.max_overlap(), 3),
            "difficulty_spread": round(self.difficulty_spread(), 3),
        }


def assemble_parallel(
    bp: Blueprint,
    items: Iterable[Item],
    seed: str | int,
    count: int = 2,
    *,
    max_overlap: float = 0.5,
    max_spread: float = 0.25,
) -> ParallelForms:
    """Assemble ``count`` parallel forms (A/B/C 卷) with bounded pairwise overlap and difficulty spread.

    Forms are drawn in turn, each preferring the items its predecessors used least; then items are
    swapped within their cell, without raising any overlap past the bound, until the forms' mean
    difficulties lie within ``max_spread`` of each other.

    :raises AssemblyError: when the bounds cannot be met with this bank.
    """
    if not 1 <= count <= len(FORM_LABELS):
        raise AssemblyError(f"平行卷数量必须在 1 到 {len(FORM_LABELS)} 之间", code="bad_form_count")
    bank = [i for i in items if i.serves(bp.level)]
    usage: dict[str, int] = {}
    forms: list[Form] = []
    for label in FORM_LABELS[:count]:
        form = assemble(bp, bank, seed, label=label, usage=usage)
        for item_id in form.item_ids:
            usage[item_id] = usage.get(item_id, 0) + 1
        forms.append(form)
    forms = _balance_difficulty(forms, bank, max_overlap, max_spread)
    result = ParallelForms(tuple(forms))
    if result.max_overlap() > max_overlap + 1e-9 or result.difficulty_spread() > max_spread + 1e-9:
        raise AssemblyError(
            f"{bp.label}：无法组出满足约束的平行卷（最大重复率 {result.max_overlap():.0%}，"
            f"难度差 {result.difficulty_spread():.2f}；要求不超过 {max_overlap:.0%} 和 {max_spread}）",
            code="parallel_bounds",
            detail=result.report(),
        )
    return result


def _balance_difficulty(forms: list[Form], bank: list[Item], max_overlap: float, max_spread: float) -> list[Form]:
    for _ in range(200):
        means = [f.mean_difficulty() for f in forms]
        if max(means) - min(means) <= max_spread:
            break
        target = sum(means) / len(means)
        worst = max(range(len(forms)), key=lambda k: abs(means[k] - target))
        better = _best_swap(forms, worst, bank, target, max_overlap)
        if better is None:
            break
        forms[worst] = better
    return forms


def _best_swap(forms: list[Form], k: int, bank: list[Item], target: float, max_overlap: float) -> Form | None:
    """The single within-cell swap that brings form k's mean difficulty closest to target."""
    form = forms[k]
    others = [f for j, f in enumerate(forms) if j != k]
    best, best_gap = None, abs(form.mean_difficulty() - target)
    for pos, entry in enumerate(form.entries):
        for candidate in bank:
            if (
                candidate.id in form.item_ids
                or candidate.type != entry.item.type
                or candidate.areas() != entry.item.areas()
                or candidate.difficulty == entry.item.difficulty
            ):
                continue
            entries = list(form.entries)
            entries[pos] = FormEntry(candidate, entry.points)
            trial = Form(form.blueprint, form.seed, form.label, tuple(entries))
            gap = abs(trial.mean_difficulty() - target)
            if gap < best_gap - 1e-9 and all(
                overlap(trial, o) <= max_overlap + 1e-9 and overlap(o, trial) <= max_overlap + 1e-9 for o in others
            ):
                best, best_gap = trial, gap
    return best


# --- per-candidate order ----------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveredQuestion:
    id: str
    options: tuple[str, ...]  # option ids in the order this candidate sees them


@dataclass(frozen=True)
class DeliveredItem:
    id: str
    questions: tuple[DeliveredQuestion, ...]


def shuffle_options(option_ids: Sequence[str], fixed: Iterable[str], rng: random.Random) -> tuple[str, ...]:
    """Shuffle options, leaving every fixed option (e.g. 以上都对) at its own position."""
    fixed = set(fixed)
    movable = [o for o in option_ids if o not in fixed]
    rng.shuffle(movable)
    it = iter(movable)
    return tuple(o if o in fixed else next(it) for o in option_ids)


def candidate_order(form: Form, seed: str | int) -> tuple[DeliveredItem, ...]:
    """The order one candidate sees: items shuffled within each section, options within each question.

    Sections keep the blueprint's order and a case keeps its sub-questions in order (they follow
    the scenario). Judge options (对/错) never move. Reproducible from the candidate's seed.
    """
    rng = random.Random(f"candidate/{seed}")
    delivered: list[DeliveredItem] = []
    for section in form.blueprint.sections:
        entries = [e for e in form.entries if e.item.type == section.type]
        rng.shuffle(entries)
        for e in entries:
            questions = tuple(
                DeliveredQuestion(
                    q.id,
                    q.option_ids if q.type == "judge" else shuffle_options(q.option_ids, q.fixed, rng),
                )
                for q in e.item.questions
            )
            delivered.append(DeliveredItem(e.item.id, questions))
    return tuple(delivered)
