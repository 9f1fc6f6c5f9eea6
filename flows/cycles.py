"""The cycles by the names people use for them: `samordna run est`, `samordna run daglig`, …"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import Flow

from flows.daily_sweep import daily_sweep_flow, sweep_and_notify
from flows.est import est_flow, run_est_cycle
from flows.follow_up import follow_up_and_compile, follow_up_flow
from flows.orchestration import Cycle
from flows.situation_assessment import run_situation_assessment_cycle, situation_assessment_flow


@dataclass(frozen=True, slots=True)
class CycleSpec:
    name: str
    description: str
    run: Cycle
    flow: Flow[[str | None, str | None], dict[str, int]]
    deployment: str  # the deployment's name in prefect.yaml


CYCLES: dict[str, CycleSpec] = {
    "est": CycleSpec("est", "EST var 14:e dag", run_est_cycle, est_flow, "est-falun"),
    "uppfoljning": CycleSpec(
        "uppfoljning",
        "Åtgärdsplanens uppföljning varje halvår",
        follow_up_and_compile,
        follow_up_flow,
        "uppfoljning",
    ),
    "lagesbild": CycleSpec(
        "lagesbild",
        "Lägesbild vartannat år och planens revidering",
        run_situation_assessment_cycle,
        situation_assessment_flow,
        "lagesbild",
    ),
    "daglig": CycleSpec(
        "daglig",
        "Daglig kontroll: påminnelser och eskaleringar, med meddelanden i utkorgen",
        sweep_and_notify,
        daily_sweep_flow,
        "daglig-kontroll",
    ),
}
