"""delivery channels rejections

A mail server that is down no longer fails the messages waiting for it (issue 16): the channel is
paused (delivery_channel) and only a refusal by a reachable channel counts against a message
(outbox_message.rejections). FAILED messages remember when (failed_at), so a recovered channel can
queue them again within a window, and how often they were queued again (requeues); each delivery
attempt names its channel.

Rows from before this revision: rejections 0 (a message still PENDING gets its full number of
attempts again), failed_at NULL (a message that FAILED before the upgrade is never queued again
automatically; `samordna utkorg skicka-om` does it by hand), channel '' on old attempts.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('delivery_channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('down_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_probe_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=False),
    sa.Column('last_ok_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', name='uq_delivery_channel_key')
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rejections', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('requeues', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=300), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.drop_column('channel')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('requeues')
        batch_op.drop_column('failed_at')
        batch_op.drop_column('rejections')
    op.drop_table('delivery_channel')
