"""adoption dates of kommun and plan

The day Samordna was taken into use for a kommun and for a plan: history before it raises no
escalation (issue 14: importing Orsa's running plan sent five ESKALERING on the first daily run).
Rows from before this revision get the day they were created or imported (in UTC; a day's
difference does not matter for a grace), so an upgrade does not silence escalations already raised.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adopted_on', sa.Date(), nullable=True))
    with op.batch_alter_table('action_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adopted_on', sa.Date(), nullable=True))
    # SQLite keeps datetimes as text: date() takes its day; CAST AS DATE would make a number of it.
    day = "date({})" if op.get_bind().dialect.name == "sqlite" else "CAST({} AS DATE)"
    op.execute(f"UPDATE municipality SET adopted_on = {day.format('created_at')}")
    op.execute(f"UPDATE action_plan SET adopted_on = {day.format('imported_at')}")


def downgrade() -> None:
    with op.batch_alter_table('action_plan', schema=None) as batch_op:
        batch_op.drop_column('adopted_on')
    with op.batch_alter_table('municipality', schema=None) as batch_op:
        batch_op.drop_column('adopted_on')
