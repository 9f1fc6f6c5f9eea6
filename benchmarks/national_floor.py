"""The floor of the national daily sweep: hand-written PostgreSQL doing the same work in four statements.

What the engine's sweep writes for the national data set on its sweep day, written as directly as SQL
allows: close the answered status tasks (one UPDATE), write each open task's reminder of the day (one
INSERT … SELECT, its Swedish subject built in SQL, titles shortened by the engine's rule), one digest
per recipient (one INSERT … SELECT … GROUP BY, its body a string_agg instead of the jinja2 templates)
and point every reminder at its digest (one UPDATE … FROM). No Python per row, no ORM, no templates:
the floor the engine is measured against (bench_national.py), checked to leave the same reminder rows.

It knows only what the national data set needs (status tasks, their notice or ladder reminder), so it
is a floor, not a second implementation: the engine also judges escalations, stalled measures,
resolutions and adoption summaries, and renders each digest in text and HTML.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from core.clock import moment_of
from core.text import swedish_date
from cycles.daily_sweep import ANSWER_WINDOW_DAYS, reminder_kind_on
from models.rhythm import ReminderLadder
from models.task import ReminderKind
from models.working_days import previous_working_day, working_days_between

# The engine's core.text.shorten in SQL: whitespace folded, cut at a word boundary with "…".
SHORTEN = r"""
CREATE OR REPLACE FUNCTION pg_temp.shorten(value text, size int) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN length(flat) <= size THEN flat ELSE
    rtrim(CASE WHEN space > size / 2 THEN left(cut, space) ELSE cut END, ' ,.;:-–') || '…' END
  FROM (
    SELECT flat, cut,
           CASE WHEN strpos(cut, ' ') > 0 THEN length(cut) - strpos(reverse(cut), ' ') ELSE -1 END AS space
    FROM (SELECT flat, left(flat, size - 1) AS cut
          FROM (SELECT btrim(regexp_replace(value, '\s+', ' ', 'g')) AS flat) folded) cut_off
  ) measured
$$
"""

CLOSE = """
UPDATE task t SET state = 'klar', closed_at = :moment
WHERE t.municipality_id = ANY(:kommuner) AND t.state = 'öppen' AND t.kind = 'statusrapport'
  AND EXISTS (SELECT 1 FROM status_report r
              WHERE r.measure_id = t.measure_id AND r.reported_on BETWEEN t.due_date - :window AND :as_of)
"""

REMIND = """
WITH ladder(due_date, kind, due_text, late) AS (
  SELECT * FROM unnest(CAST(:due_dates AS date[]), CAST(:kinds AS text[]), CAST(:due_texts AS text[]),
                       CAST(:lates AS int[]))
), told AS (
  SELECT DISTINCT r.task_id FROM reminder r JOIN task t ON t.id = r.task_id
  WHERE r.municipality_id = ANY(:kommuner) AND t.state = 'öppen'
), due AS (
  SELECT t.id, t.municipality_id, t.assignee_person_id, t.due_date,
         CASE WHEN told.task_id IS NULL AND t.created_at < :news_until THEN 'ny_uppgift' ELSE l.kind END
           AS kind,
         l.due_text, l.late,
         CASE WHEN m.id IS NOT NULL THEN 'statusrapport för "' || pg_temp.shorten(m.title, 120) || '"'
              ELSE '"' || pg_temp.shorten(t.subject, 120) || '"' END AS phrase
  FROM task t
  JOIN ladder l ON l.due_date = t.due_date
  LEFT JOIN told ON told.task_id = t.id
  LEFT JOIN measure m ON m.id = t.measure_id AND t.kind = 'statusrapport'
  WHERE t.municipality_id = ANY(:kommuner) AND t.state = 'öppen' AND t.assignee_person_id IS NOT NULL
)
INSERT INTO reminder (municipality_id, task_id, recipient_person_id, kind, subject, remind_on, dedupe_key,
                      created_at)
SELECT municipality_id, id, assignee_person_id, kind,
       CASE kind WHEN 'ny_uppgift' THEN 'Ny uppgift: ' || phrase || ' senast ' || due_text
                 WHEN 'förfallodag' THEN 'Påminnelse: ' || phrase || ' senast i dag, ' || due_text
                 WHEN 'före' THEN 'Påminnelse: ' || phrase || ' senast ' || due_text
                 ELSE 'Påminnelse: ' || phrase || ' senast ' || due_text || ' – nu ' || late
                      || ' arbetsdagar försenad' END,
       :as_of, 'påminnelse:' || id || ':' || :as_of_text, :moment
FROM due WHERE kind IS NOT NULL
ORDER BY due_date, id
ON CONFLICT (dedupe_key) DO NOTHING
"""

DIGEST = """
INSERT INTO outbox_message (municipality_id, dedupe_key, kind, recipient_person_id, subject, body_text,
                            body_html, created_at, state, attempts, next_attempt_at, last_error, reply_to,
                            rejections, requeues)
SELECT r.municipality_id,
       'sammandrag:' || r.recipient_person_id || ':' || :as_of_text || ':' || min(r.id),
       'sammandrag', r.recipient_person_id,
       'Samordna: ' || count(DISTINCT t.id) || CASE WHEN count(DISTINCT t.id) = 1 THEN ' uppgift'
                                                   ELSE ' uppgifter' END || ' att göra',
       'Hej ' || p.name || E',\n\n' || string_agg(t.subject || ' (senast ' || t.due_date || ')', E'\n'
                                                    ORDER BY t.due_date, t.id),
       '<p>Hej ' || p.name || '</p><ol><li>' || string_agg(t.subject, '</li><li>' ORDER BY t.due_date, t.id)
         || '</li></ol>',
       :moment, 'väntar', 0, :moment, '', '', 0, 0
FROM reminder r JOIN task t ON t.id = r.task_id JOIN person p ON p.id = r.recipient_person_id
WHERE r.municipality_id = ANY(:kommuner) AND r.outbox_message_id IS NULL AND r.remind_on <= :as_of
  AND t.state = 'öppen'
GROUP BY r.municipality_id, r.recipient_person_id, p.name
ON CONFLICT (dedupe_key) DO NOTHING
"""

LINK = """
WITH taken AS (
  SELECT r.id, min(r.id) OVER (PARTITION BY r.recipient_person_id) AS first_id, r.recipient_person_id
  FROM reminder r JOIN task t ON t.id = r.task_id
  WHERE r.municipality_id = ANY(:kommuner) AND r.outbox_message_id IS NULL AND r.remind_on <= :as_of
    AND t.state = 'öppen'
)
UPDATE reminder r SET outbox_message_id = m.id
FROM taken JOIN outbox_message m
  ON m.dedupe_key = 'sammandrag:' || taken.recipient_person_id || ':' || :as_of_text || ':' || taken.first_id
WHERE r.id = taken.id
"""


def _ladder(connection: sa.Connection, kommuner: list[int], as_of: date) -> dict[str, list[object]]:
    """The reminder of the day per distinct due date, with its Swedish date and lateness: the working-day
    calendar is Python's (models.working_days), looked up once per date, as any SQL would be given it."""
    dates = connection.execute(
        sa.text("SELECT DISTINCT due_date FROM task WHERE municipality_id = ANY(:k) AND state = 'öppen'"),
        {"k": kommuner},
    ).scalars()
    ladder = ReminderLadder()
    found: dict[str, list[object]] = {"due_dates": [], "kinds": [], "due_texts": [], "lates": []}
    for due_date in sorted(dates):
        kind = reminder_kind_on(due_date, as_of, ladder)
        due = previous_working_day(due_date)
        found["due_dates"].append(due_date)
        found["kinds"].append(kind.value if isinstance(kind, ReminderKind) else None)
        found["due_texts"].append(swedish_date(due))
        found["lates"].append(working_days_between(due, as_of) if due < as_of else 0)
    return found


def floor_sweep(connection: sa.Connection, kommuner: list[int], as_of: date) -> dict[str, int]:
    """The national data set's daily sweep for the kommuner (ids) on ``as_of``, in hand-written SQL:
    rows closed, reminders written, digests written. The caller commits."""
    connection.execute(sa.text(SHORTEN))
    moment: datetime = moment_of(as_of, time(7, 0))
    common = {"kommuner": kommuner, "as_of": as_of, "as_of_text": as_of.isoformat(), "moment": moment}
    closed = connection.execute(sa.text(CLOSE), {**common, "window": ANSWER_WINDOW_DAYS}).rowcount
    reminded = connection.execute(
        sa.text(REMIND),
        {
            **common,
            **_ladder(connection, kommuner, as_of),
            "news_until": moment_of(as_of + timedelta(days=1), time(0, 0)),
        },
    ).rowcount
    digests = connection.execute(sa.text(DIGEST), common).rowcount
    connection.execute(sa.text(LINK), common)
    return {"uppgift klar": closed, "påminnelse": reminded, "meddelande": digests}
