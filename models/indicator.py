"""Indikatorer: what a focus area's goal is measured by (NTU, LUPP, reported crimes, own counts)."""

from __future__ import annotations

import unicodedata
from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

# The sources Swedish crime prevention measures by; other text is kept as written.
KNOWN_SOURCES = (
    "NTU",  # Brå's Nationella trygghetsundersökningen
    "LUPP",  # MUCF's Lokal uppföljning av ungdomspolitiken
    "Polisens trygghetsmätning",
    "Anmälda brott",  # Brå's statistics of reported crimes
    "Egen räkning",  # the kommun's own counts
)
_SOURCE_ALIASES = {
    "ntu": "NTU",
    "nationella trygghetsundersokningen": "NTU",
    "lupp": "LUPP",
    "polisens trygghetsmatning": "Polisens trygghetsmätning",
    "trygghetsmatning": "Polisens trygghetsmätning",
    "polisen": "Polisens trygghetsmätning",
    "anmalda brott": "Anmälda brott",
    "bra anmalda brott": "Anmälda brott",
    "egen rakning": "Egen räkning",
    "egna rakningar": "Egen räkning",
    "egen": "Egen räkning",
}


def normalise_source(text: str) -> str:
    """A known source by its usual name ("ntu" → "NTU", "egen räkning" → "Egen räkning"); other text as is."""
    folded = " ".join(
        "".join(
            c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
        ).split()
    )
    return _SOURCE_ALIASES.get(folded, " ".join(text.split()))


class IndicatorBase(SQLModel):
    name: str = Field(max_length=500)
    source: str = Field(default="", max_length=200, description="NTU, LUPP, Polisen, egen räkning, …")
    unit: str = Field(default="", max_length=50)
    higher_is_better: bool | None = None
    target: float | None = None


class Indicator(IndicatorBase, table=True):
    __tablename__ = "indicator"
    __table_args__ = (sa.UniqueConstraint("municipality_id", "name", name="uq_indicator_name"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    focus_area_id: int | None = Field(default=None, foreign_key="focus_area.id")


class IndicatorCreate(IndicatorBase):
    focus_area_id: int | None = None


class IndicatorValue(SQLModel, table=True):
    """One measured value of an indicator over a period (a year, a half-year, a survey round)."""

    __tablename__ = "indicator_value"
    __table_args__ = (
        sa.UniqueConstraint("indicator_id", "period_start", "period_end", name="uq_indicator_value_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    period_start: date
    period_end: date
    value: float
    note: str = Field(default="", max_length=2000)


def indicators(session: Session, municipality_id: int) -> list[Indicator]:
    """The kommun's indicators, by name."""
    return list(
        session.exec(
            select(Indicator).where(Indicator.municipality_id == municipality_id).order_by(Indicator.name)
        )
    )


def indicator_values(session: Session, indicator_id: int) -> list[IndicatorValue]:
    """An indicator's values, oldest period first."""
    return list(
        session.exec(
            select(IndicatorValue)
            .where(IndicatorValue.indicator_id == indicator_id)
            .order_by(col(IndicatorValue.period_start))
        )
    )
