"""outbox attachments

Files sent with an outbox message (an EST agenda's DOCX and ICS invitation), one row per file.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mime_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'], name='fk_outbox_attachment_message_id'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id', 'filename', name='uq_outbox_attachment_message_filename')
    )
    with op.batch_alter_table('outbox_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_attachment_message_id'), ['message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_attachment_message_id'))
    op.drop_table('outbox_attachment')
