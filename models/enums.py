"""Enumerations shared by the plan aggregate and the importers.

Values are the Swedish words people type and read (``--status pågående``); member names are the
English code names from the glossary in ``domain.md``.
"""

from __future__ import annotations

from enum import StrEnum


class MeasureStatus(StrEnum):
    """Where a measure (åtgärd) stands."""

    PLANNED = "planerad"
    ONGOING = "pågående"
    DELAYED = "försenad"
    STALLED = "avstannad"
    COMPLETED = "genomförd"
    CANCELLED = "avbruten"


# A measure in one of these is done with: no status tasks, no stall, no escalation for an end date.
FINISHED_STATUSES = frozenset({MeasureStatus.COMPLETED, MeasureStatus.CANCELLED})


class FollowUpFrequency(StrEnum):
    """How often a measure is followed up (uppföljning)."""

    CONTINUOUS = "löpande"
    MONTHLY = "månadsvis"
    QUARTERLY = "kvartalsvis"
    TERTIAL = "tertialvis"
    HALF_YEARLY = "halvårsvis"
    YEARLY = "årsvis"
    PER_MEETING = "vid möte"
    ONCE = "en gång"


class ForumKind(StrEnum):
    """The bodies a measure is followed up in, or that a problem is escalated to."""

    LOCAL_BRA = "lokala_bra"
    MUNICIPAL_BOARD = "kommunstyrelsen"
    MUNICIPAL_MANAGEMENT = "kommunledningen"
    EST_GROUP = "est_grupp"
    STEERING_GROUP = "styrgrupp"
    OTHER = "annat"
