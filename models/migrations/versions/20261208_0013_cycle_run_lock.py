"""cycle run lock

One row per cycle and kommun (issue 15): a run of a cycle for a kommun takes it first, so two runs of
the same cycle for the same kommun (two workers' chunks, a chunk and a manual run) never overlap.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'cycle_run_lock',
        sa.Column('cycle', sa.String(length=40), nullable=False),
        sa.Column('municipality_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id']),
        sa.PrimaryKeyConstraint('cycle', 'municipality_id'),
    )


def downgrade() -> None:
    op.drop_table('cycle_run_lock')
