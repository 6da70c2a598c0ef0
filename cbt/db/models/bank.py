"""The item bank: packs, items and their immutable versions, blueprints, and assembled forms.

Item versions are immutable rows: importing changed content adds a version, and an assembled form
points at the exact versions it delivered, so a later pack change never alters a form."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cbt.db.base import Base


class Pack(Base):
    __tablename__ = "packs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[str] = mapped_column(String(64))
    occupation_code: Mapped[str] = mapped_column(String(16))
    occupation_name: Mapped[str] = mapped_column(String(100))
    meta: Mapped[dict]
    imported_at: Mapped[datetime] = mapped_column()

    items: Mapped[list[Item]] = relationship(back_populates="pack", order_by="Item.key")
    blueprints: Mapped[list[Blueprint]] = relationship(back_populates="pack")


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("pack_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    retired_at: Mapped[datetime | None] = mapped_column()
    retired_reason: Mapped[str | None] = mapped_column(Text)

    pack: Mapped[Pack] = relationship(back_populates="items")
    versions: Mapped[list[ItemVersion]] = relationship(back_populates="item", order_by="ItemVersion.number")

    @property
    def current(self) -> ItemVersion:
        return self.versions[-1]


class ItemVersion(Base):
    """One published version of an item. Never updated once written."""

    __tablename__ = "item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    area: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[int] = mapped_column(Integer)
    levels: Mapped[list]
    content: Mapped[dict]
    pack_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()

    item: Mapped[Item] = relationship(back_populates="versions")


class Blueprint(Base):
    __tablename__ = "blueprints"
    __table_args__ = (UniqueConstraint("pack_id", "level", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict]
    updated_at: Mapped[datetime] = mapped_column()

    pack: Mapped[Pack] = relationship(back_populates="blueprints")


class Form(Base):
    """An assembled paper (试卷, A/B/C 卷): a snapshot of the blueprint and the item versions it holds."""

    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("packs.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(8))
    seed: Mapped[str] = mapped_column(String(64))
    blueprint: Mapped[dict]
    summary: Mapped[dict]
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(64))

    entries: Mapped[list[FormItem]] = relationship(back_populates="form", order_by="FormItem.position")


class FormItem(Base):
    __tablename__ = "form_items"
    __table_args__ = (UniqueConstraint("form_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"))
    points: Mapped[int] = mapped_column(Integer)  # per scored question

    form: Mapped[Form] = relationship(back_populates="entries")
    version: Mapped[ItemVersion] = relationship()
