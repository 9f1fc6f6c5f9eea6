"""The flows that ``prefect.yaml``'s deployments run, one per cycle of the registry.

Entry points name these objects (``flows/deployments.py:daily_sweep_flow``). This module is what a
worker imports; nothing below ``flows/`` imports Prefect.
"""

from __future__ import annotations

from prefect import Flow

from flows.orchestration import cycle_flow
from services.cycles import CYCLES

CYCLE_FLOWS: dict[str, Flow[[str | None, str | None], dict[str, int]]] = {
    name: cycle_flow(spec) for name, spec in CYCLES.items()
}

est_flow = CYCLE_FLOWS["est"]
follow_up_flow = CYCLE_FLOWS["uppfoljning"]
situation_assessment_flow = CYCLE_FLOWS["lagesbild"]
daily_sweep_flow = CYCLE_FLOWS["daglig"]
est_agenda_flow = CYCLE_FLOWS["dagordning"]
