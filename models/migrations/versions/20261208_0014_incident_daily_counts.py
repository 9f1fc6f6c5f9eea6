"""incident daily counts

The lägesbild of a big city read hundreds of thousands of incidents per period (issue 15): it now sums
daily counts per kommun, day, area and category (incident_day_count) and per kommun, day and hour
(incident_hour_count, -1 where only the part of the day is known), which store_incidents keeps in the
same transaction as the incidents. This revision creates both and fills them from the incidents already
stored, with the same GROUP BY the lägesbild used to run.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'incident_day_count',
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('occurred_on', sa.Date(), nullable=False),
        sa.Column('area', sa.String(length=80), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id']),
        sa.PrimaryKeyConstraint('municipality_id', 'occurred_on', 'area', 'category'),
    )
    op.create_table(
        'incident_hour_count',
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('occurred_on', sa.Date(), nullable=False),
        sa.Column('hour', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id']),
        sa.PrimaryKeyConstraint('municipality_id', 'occurred_on', 'hour'),
    )
    op.execute(
        "INSERT INTO incident_day_count (municipality_id, occurred_on, area, category, count) "
        "SELECT municipality_id, occurred_on, area, category, count(*) FROM incident "
        "GROUP BY municipality_id, occurred_on, area, category"
    )
    op.execute(
        "INSERT INTO incident_hour_count (municipality_id, occurred_on, hour, count) "
        "SELECT municipality_id, occurred_on, COALESCE(hour, -1), count(*) FROM incident "
        "GROUP BY municipality_id, occurred_on, COALESCE(hour, -1)"
    )


def downgrade() -> None:
    op.drop_table('incident_hour_count')
    op.drop_table('incident_day_count')
