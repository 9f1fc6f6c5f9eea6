"""The flows that ``prefect.yaml``'s deployments run: one per cycle of the registry, for every kommun.

Entry points name these objects (``flows/deployments.py:daily_sweep_flow``). This module is what a
worker imports; nothing below ``flows/`` imports Prefect. ``cycle_part_flow`` is the flow of the
deployment ``cykel-del``: a part of a national run that another worker takes (flows/orchestration.py).
"""

from __future__ import annotations

from flows.orchestration import CycleFlow, cycle_flow, cycle_part_flow
from services.cycles import CYCLES

CYCLE_FLOWS: dict[str, CycleFlow] = {name: cycle_flow(spec) for name, spec in CYCLES.items()}

est_flow = CYCLE_FLOWS["est"]
follow_up_flow = CYCLE_FLOWS["uppfoljning"]
situation_assessment_flow = CYCLE_FLOWS["lagesbild"]
daily_sweep_flow = CYCLE_FLOWS["daglig"]
est_agenda_flow = CYCLE_FLOWS["dagordning"]
sspf_flow = CYCLE_FLOWS["sspf"]

__all__ = [
    "CYCLE_FLOWS",
    "cycle_part_flow",
    "daily_sweep_flow",
    "est_agenda_flow",
    "est_flow",
    "follow_up_flow",
    "situation_assessment_flow",
    "sspf_flow",
]
