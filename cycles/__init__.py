"""The rules of the recurring cycles: plain functions of (session, kommun, as_of) that never commit.

EST (``est``, its calendar ``est_calendar``, the EST-lägesbild ``est_situation``, decisions
``est_decisions``), the half-year follow-up (``follow_up``), the two-year lägesbild and plan revision
(``situation_assessment``), the daily sweep of reminders and escalations (``daily_sweep``) and SSPF
(``sspf``). No Prefect here: ``flows/`` wraps these; ``services.cycles`` registers them by name.
"""
