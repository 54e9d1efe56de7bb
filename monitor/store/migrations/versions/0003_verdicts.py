"""verdicts: reviewers' corrections of toxicity, stance and slur scores

Revision ID: add_verdicts
Revises: 0002_outbox_receivers
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import monitor.store.schema


revision = 'add_verdicts'
down_revision = '0002_outbox_receivers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('verdicts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('comment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=192), nullable=False),
    sa.Column('value', sa.String(length=16), nullable=False),
    sa.Column('reviewer', sa.String(length=128), nullable=False),
    sa.Column('created_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_verdicts_comment_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verdicts'))
    )
    with op.batch_alter_table('verdicts', schema=None) as batch_op:
        batch_op.create_index('ix_verdicts_comment', ['comment_id', 'kind'], unique=False)
        batch_op.create_index('ix_verdicts_created', ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('verdicts', schema=None) as batch_op:
        batch_op.drop_index('ix_verdicts_created')
        batch_op.drop_index('ix_verdicts_comment')
    op.drop_table('verdicts')
