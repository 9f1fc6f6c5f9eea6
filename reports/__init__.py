"""What people read about the work: compiled from the rules' data, rendered to HTML, text, DOCX, XLSX, ICS.

The half-year follow-up report (``follow_up_report``, ``report_documents``), the EST agenda and
protocol (``est_agenda``, which also sends them), the forum agenda (``forum_agenda``), the plan health
check (``plan_health``), the register export (``plan_export``) and the årshjul (``year_wheel``). These
read ``cycles/`` and ``models/``; the bytes themselves come from ``documents/``.
"""
