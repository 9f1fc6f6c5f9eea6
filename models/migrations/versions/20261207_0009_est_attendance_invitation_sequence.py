"""est attendance and invitation sequence

The protocol of an EST meeting records who was present and who was not (est_attendance, one row per
meeting and person). The meeting invitation carries a SEQUENCE: est_cycle keeps the last one sent and
what it said (start, end, place), so a moved meeting is sent with the next sequence and calendars
update the entry they have instead of adding a second one.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('est_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('est_cycle_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['est_cycle_id'], ['est_cycle.id'], name='fk_est_attendance_est_cycle_id'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name='fk_est_attendance_person_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('est_cycle_id', 'person_id', name='uq_est_attendance_person')
    )
    with op.batch_alter_table('est_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_est_attendance_est_cycle_id'), ['est_cycle_id'], unique=False)
    with op.batch_alter_table('est_cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitation_sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(
            sa.Column('invitation_fingerprint', sa.String(length=200), nullable=False, server_default='')
        )


def downgrade() -> None:
    with op.batch_alter_table('est_cycle', schema=None) as batch_op:
        batch_op.drop_column('invitation_fingerprint')
        batch_op.drop_column('invitation_sequence')
    with op.batch_alter_table('est_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_est_attendance_est_cycle_id'))
    op.drop_table('est_attendance')
