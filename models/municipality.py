"""The kommun: the tenant every other record belongs to."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from core.text import name_key
from models.types import UTCDateTime, utcnow

KOMMUNKOD = re.compile(r"^\d{4}$")


class MunicipalityBase(SQLModel):
    name: str = Field(max_length=100)
    code: str = Field(max_length=4, description="Kommunkod, four digits (Falun 2080, Orsa 2034)")


class Municipality(MunicipalityBase, table=True):
    __tablename__ = "municipality"
    __table_args__ = (sa.UniqueConstraint("code", name="uq_municipality_code"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The kommun's rhythm (models.rhythm.Rhythm, stored with its Swedish keys); empty means defaults.
    rhythm: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # The day Samordna was taken into use for the kommun (its first daily sweep, unless set before):
    # what was already late before it raises no escalation, only a summary to the coordinator.
    adopted_on: date | None = None


class MunicipalityCreate(MunicipalityBase):
    pass


class MunicipalityRead(MunicipalityBase):
    id: int


def find_municipality(session: Session, key: str) -> Municipality | None:
    """The kommun whose kommunkod or name (case-insensitive, Swedish letters too: ``models.types.name_key``)
    is ``key``. Names are compared in Python: there are at most 290 kommuner."""
    key = key.strip()
    if KOMMUNKOD.match(key):
        return session.exec(select(Municipality).where(Municipality.code == key)).first()
    wanted = name_key(key)
    rows = session.exec(select(Municipality).order_by(col(Municipality.id)))
    return next((row for row in rows if name_key(row.name) == wanted), None)


def list_municipalities(session: Session) -> list[Municipality]:
    """Every kommun, by name."""
    return list(session.exec(select(Municipality).order_by(Municipality.name)))
