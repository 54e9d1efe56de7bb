"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import monitor.store.schema


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('aggregates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('window_s', sa.Integer(), nullable=False),
    sa.Column('window_start', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('scope_key', sa.String(length=512), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('comment_count', sa.Integer(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('computed_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aggregates')),
    sa.UniqueConstraint('window_s', 'window_start', 'scope', 'scope_key', name=op.f('uq_aggregates_window_s'))
    )
    with op.batch_alter_table('aggregates', schema=None) as batch_op:
        batch_op.create_index('ix_aggregates_lookup', ['scope', 'window_s', 'window_start'], unique=False)

    op.create_table('alert_states',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('rule', sa.String(length=256), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('annotations', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('active_since', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fired_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_true_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_eval_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_notified_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_states')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_alert_states_fingerprint'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('group_key', sa.String(length=255), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('silences',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('matchers', sa.JSON(), nullable=False),
    sa.Column('starts_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_silences'))
    )
    op.create_table('slur_candidates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('normalized', sa.String(length=128), nullable=False),
    sa.Column('term', sa.Text(), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('first_seen', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('distinct_authors', sa.Integer(), nullable=False),
    sa.Column('articles', sa.Integer(), nullable=False),
    sa.Column('toxic_count', sa.Integer(), nullable=False),
    sa.Column('growth', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('examples', sa.JSON(), nullable=False),
    sa.Column('updated_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slur_candidates')),
    sa.UniqueConstraint('normalized', name=op.f('uq_slur_candidates_normalized'))
    )
    op.create_table('sources',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('created_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_sources_name'))
    )
    op.create_table('state',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_state'))
    )
    op.create_table('articles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=512), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('published_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('discovered_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_checked_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_check_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('comment_count', sa.Integer(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_articles_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_articles')),
    sa.UniqueConstraint('source_id', 'external_id', name=op.f('uq_articles_source_id'))
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index('ix_articles_next_check', ['source_id', 'next_check_at'], unique=False)

    op.create_table('collection_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('started_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('articles_checked', sa.Integer(), nullable=False),
    sa.Column('comments_new', sa.Integer(), nullable=False),
    sa.Column('comments_updated', sa.Integer(), nullable=False),
    sa.Column('comments_deleted', sa.Integer(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_collection_runs_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_runs'))
    )
    with op.batch_alter_table('collection_runs', schema=None) as batch_op:
        batch_op.create_index('ix_collection_runs_source', ['source_id', 'started_at'], unique=False)

    op.create_table('collection_errors',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['collection_runs.id'], name=op.f('fk_collection_errors_run_id_collection_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_collection_errors_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_errors'))
    )
    op.create_table('comments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('article_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('external_id', sa.String(length=512), nullable=False),
    sa.Column('parent_external_id', sa.String(length=512), nullable=True),
    sa.Column('author_pseudonym', sa.String(length=32), nullable=True),
    sa.Column('author_name', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('published_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('edit_count', sa.Integer(), nullable=False),
    sa.Column('deleted_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('purged_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
    sa.Column('needs_scoring', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_comments_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_comments_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments')),
    sa.UniqueConstraint('source_id', 'external_id', name=op.f('uq_comments_source_id'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_article', ['article_id'], unique=False)
        batch_op.create_index('ix_comments_pending', ['needs_scoring', 'id'], unique=False)
        batch_op.create_index('ix_comments_published', ['published_at'], unique=False)
        batch_op.create_index('ix_comments_updated', ['updated_at'], unique=False)

    op.create_table('comment_revisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('comment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('seen_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.Column('replaced_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_revisions_comment_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_revisions'))
    )
    with op.batch_alter_table('comment_revisions', schema=None) as batch_op:
        batch_op.create_index('ix_comment_revisions_comment', ['comment_id'], unique=False)

    op.create_table('scores',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('comment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_version', sa.String(length=128), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('toxicity', sa.Float(), nullable=False),
    sa.Column('toxic', sa.Boolean(), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('stance', sa.JSON(), nullable=False),
    sa.Column('slurs', sa.JSON(), nullable=False),
    sa.Column('scored_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_scores_comment_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scores')),
    sa.UniqueConstraint('comment_id', 'model_version', name=op.f('uq_scores_comment_id'))
    )
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.create_index('ix_scores_scored_at', ['scored_at'], unique=False)

    op.create_table('slur_occurrences',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('comment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('term', sa.Text(), nullable=False),
    sa.Column('normalized', sa.String(length=128), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('seen_at', monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_slur_occurrences_comment_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slur_occurrences')),
    sa.UniqueConstraint('comment_id', 'start', 'normalized', name=op.f('uq_slur_occurrences_comment_id'))
    )
    with op.batch_alter_table('slur_occurrences', schema=None) as batch_op:
        batch_op.create_index('ix_slur_occurrences_normalized', ['normalized'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('slur_occurrences', schema=None) as batch_op:
        batch_op.drop_index('ix_slur_occurrences_normalized')

    op.drop_table('slur_occurrences')
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_index('ix_scores_scored_at')

    op.drop_table('scores')
    with op.batch_alter_table('comment_revisions', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_revisions_comment')

    op.drop_table('comment_revisions')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_updated')
        batch_op.drop_index('ix_comments_published')
        batch_op.drop_index('ix_comments_pending')
        batch_op.drop_index('ix_comments_article')

    op.drop_table('comments')
    op.drop_table('collection_errors')
    with op.batch_alter_table('collection_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_collection_runs_source')

    op.drop_table('collection_runs')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index('ix_articles_next_check')

    op.drop_table('articles')
    op.drop_table('state')
    op.drop_table('sources')
    op.drop_table('slur_candidates')
    op.drop_table('silences')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    op.drop_table('alert_states')
    with op.batch_alter_table('aggregates', schema=None) as batch_op:
        batch_op.drop_index('ix_aggregates_lookup')

    op.drop_table('aggregates')
