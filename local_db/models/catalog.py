"""The local copy of the province's service-item library.

An item's list-valued elements that are only ever shown (conditions, steps, delivery options) are JSON columns;
materials and form fields have tables because applications and forms refer to them one by one. Items that
leave the catalogue are marked inactive, never deleted: filed applications still point at them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from local_db.models.base import Base, UTCDateTime


class CatalogMeta(Base):
    """One row: which catalogue version this station holds."""

    __tablename__ = "catalog_meta"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(200))
    item_count: Mapped[int] = mapped_column(Integer)
    source_sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ServiceItem(Base):
    __tablename__ = "service_item"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    item_type: Mapped[str] = mapped_column(String(20))
    department: Mapped[str] = mapped_column(String(200))
    service_object: Mapped[list[str]] = mapped_column(JSON)
    conditions: Mapped[list[str]] = mapped_column(JSON)
    statutory_limit_days: Mapped[int] = mapped_column(Integer)
    promised_limit_days: Mapped[int] = mapped_column(Integer)
    case_type: Mapped[str] = mapped_column(String(10))
    review_type: Mapped[str] = mapped_column(String(10))
    fee: Mapped[dict[str, Any]] = mapped_column(JSON)
    visits: Mapped[int] = mapped_column(Integer)
    visit_reason: Mapped[str] = mapped_column(Text)
    online_depth: Mapped[str] = mapped_column(String(2))
    online: Mapped[bool] = mapped_column(Boolean)
    delivery: Mapped[list[str]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    process_steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    life_events: Mapped[list[str]] = mapped_column(JSON)
    levels: Mapped[list[str]] = mapped_column(JSON)
    consult_phone: Mapped[str | None] = mapped_column(String(32))
    complaint_phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(Text)
    hours: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    catalog_version: Mapped[str] = mapped_column(String(40))
    # Search keys computed once at import (pypinyin is too slow to run at every start on a large catalogue).
    name_pinyin: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    name_initials: Mapped[str] = mapped_column(String(200), default="", server_default="")

    aliases: Mapped[list[ItemAlias]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemAlias.position"
    )
    materials: Mapped[list[ItemMaterial]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemMaterial.position"
    )
    form_fields: Mapped[list[ItemFormField]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemFormField.position"
    )


class ItemAlias(Base):
    """Colloquial names (俗称) people say at the window: 低保, 医保, 社保卡."""

    __tablename__ = "item_alias"
    __table_args__ = (UniqueConstraint("item_code", "alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("service_item.code", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    alias: Mapped[str] = mapped_column(String(200))
    pinyin: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    initials: Mapped[str] = mapped_column(String(200), default="", server_default="")

    item: Mapped[ServiceItem] = relationship(back_populates="aliases")


class ItemMaterial(Base):
    __tablename__ = "item_material"
    __table_args__ = (UniqueConstraint("item_code", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("service_item.code", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(10))
    copies: Mapped[int] = mapped_column(Integer)
    required: Mapped[bool] = mapped_column(Boolean)
    credibility: Mapped[str] = mapped_column(String(1))
    elicence_type: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)

    item: Mapped[ServiceItem] = relationship(back_populates="materials")


class ItemFormField(Base):
    __tablename__ = "item_form_field"
    __table_args__ = (UniqueConstraint("item_code", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_code: Mapped[str] = mapped_column(ForeignKey("service_item.code", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(48))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(Boolean)
    # min_length, max_length, pattern, minimum, maximum, choices: exactly the catalogue's rule keys.
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    prefill: Mapped[str | None] = mapped_column(String(20))
    help: Mapped[str] = mapped_column(Text)

    item: Mapped[ServiceItem] = relationship(back_populates="form_fields")
