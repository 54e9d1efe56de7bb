"""outbox rows name their receiver and hold its payload (email columns folded into it)

Revision ID: 0002_outbox_receivers
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from monitor.store.schema import UTCDateTime

revision = '0002_outbox_receivers'
down_revision = '0001'
branch_labels = None
depends_on = None

_rows = sa.table('outbox', sa.column('id', sa.Integer), sa.column('message_id', sa.String),
                 sa.column('recipients', sa.JSON), sa.column('subject', sa.Text),
                 sa.column('body_text', sa.Text), sa.column('body_html', sa.Text),
                 sa.column('created_at', UTCDateTime()), sa.column('receiver', sa.String),
                 sa.column('payload', sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receiver', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.JSON(), nullable=True))
    # Existing emails keep going out as they were: the old columns become the email payload.
    conn = op.get_bind()
    for row in conn.execute(sa.select(_rows.c.id, _rows.c.message_id, _rows.c.recipients, _rows.c.subject,
                                      _rows.c.body_text, _rows.c.body_html, _rows.c.created_at)).all():
        recipients = row.recipients if isinstance(row.recipients, list) else json.loads(row.recipients or "[]")
        payload = {'message_id': row.message_id, 'date': row.created_at.isoformat(), 'sender': '', 'to': recipients,
                   'rcpt': recipients, 'subject': row.subject, 'text': row.body_text, 'html': row.body_html}
        conn.execute(sa.update(_rows).where(_rows.c.id == row.id).values(receiver='email', payload=payload))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('receiver', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('payload', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('recipients')
        batch_op.drop_column('body_text')
        batch_op.drop_column('body_html')


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipients', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('body_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
    conn = op.get_bind()
    for row in conn.execute(sa.select(_rows.c.id, _rows.c.payload)).all():
        payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload or "{}")
        conn.execute(sa.update(_rows).where(_rows.c.id == row.id).values(
            recipients=payload.get('to', []), body_text=payload.get('text', ''),
            body_html=payload.get('html', '')))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('recipients', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('body_html', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('outcome')
        batch_op.drop_column('payload')
        batch_op.drop_column('receiver')
