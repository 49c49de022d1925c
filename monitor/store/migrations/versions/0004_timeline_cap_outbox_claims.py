"""X timeline cap per account, posts served per run; outbox claim holder and superseded copies

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.types import UTCDateTime

revision = '0004'
# Issue 13 adds 0003 in parallel; the chain is fixed at merge (0004 then revises 0003).
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ingest_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('run_served', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cap_reached_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('cap_oldest_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('cap_horizon_at', UTCDateTime(), nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('superseded_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('superseded_at')
        batch_op.drop_column('claimed_by')
    with op.batch_alter_table('ingest_state', schema=None) as batch_op:
        batch_op.drop_column('cap_horizon_at')
        batch_op.drop_column('cap_oldest_at')
        batch_op.drop_column('cap_reached_at')
        batch_op.drop_column('run_served')
