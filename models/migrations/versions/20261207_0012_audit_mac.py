"""audit mac

The SSPF audit chain gets a MAC keyed outside the database (issue 16): an edit with every later hash
computed again, which the bare hash chain could not see, no longer passes without the key.

Entries written before this revision keep mac NULL: they form the beginning of the chain, which the
first anchor written after the upgrade (`samordna init`, or the next SSPF command, when an audit key and
an anchor file are configured) seals as it stands. The column is added with a plain ALTER TABLE, not a
batch copy: on SQLite a copy would drop the triggers that keep the log append-only.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('sspf_audit_entry', sa.Column('mac', sa.String(length=80), nullable=True))


def downgrade() -> None:
    # Dropping a column needs a table copy on SQLite, which would drop the triggers with the table:
    # the downgrade leaves the (nullable) column in place.
    pass
