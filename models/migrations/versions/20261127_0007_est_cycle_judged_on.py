"""est cycle judged_on

When the EST cycle judged a closed period for persisting problems. A run judges, oldest first, every
closed period of the last year not judged yet, so periods whose meeting the flow missed (server down)
are judged too. Rows from before this revision have none: the first run after the upgrade judges the
last year's periods again, which changes nothing already raised (the dedupe keys and the guard on
last_cycle_number make a re-judged period a no-op).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('est_cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('judged_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('est_cycle', schema=None) as batch_op:
        batch_op.drop_column('judged_on')
