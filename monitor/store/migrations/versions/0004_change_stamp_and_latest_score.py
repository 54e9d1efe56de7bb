"""comments.change_seq and comments.score_id, kept by triggers

Revision ID: 0004_change_stamp
Revises: add_verdicts
Create Date: 2026-12-05

Aggregation ticks read only comments changed since their watermark (change_seq), and readers join
a comment's latest score through score_id instead of ranking its scores. Existing rows get their
latest score here and change_seq 0 (the first tick after the upgrade reads everything once).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import change_triggers

revision = '0004_change_stamp'
down_revision = 'add_verdicts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy of the table): both columns are nullable and unconstrained.
    op.add_column('comments', sa.Column('score_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                        nullable=True))
    op.add_column('comments', sa.Column('change_seq', sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE comments SET change_seq = 0, score_id = (SELECT s.id FROM scores s "
        "WHERE s.comment_id = comments.id ORDER BY s.scored_at DESC, s.id DESC LIMIT 1)")
    op.create_index('ix_comments_change_seq', 'comments', ['change_seq'], unique=False)
    for ddl in change_triggers(op.get_bind().dialect.name):
        op.execute(ddl)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS scores_latest ON scores")
        op.execute("DROP TRIGGER IF EXISTS comments_stamp ON comments")
        op.execute("DROP FUNCTION IF EXISTS monitor_score_latest()")
        op.execute("DROP FUNCTION IF EXISTS monitor_comment_stamp()")
    else:
        for name in ("comments_stamp_insert", "comments_stamp_update", "scores_latest_insert",
                     "scores_latest_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_comments_change_seq', table_name='comments')
    with op.batch_alter_table('comments') as batch_op:
        batch_op.drop_column('change_seq')
        batch_op.drop_column('score_id')
