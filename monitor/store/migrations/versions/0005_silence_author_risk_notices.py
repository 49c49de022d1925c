"""silence authors, risk notices

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.types import UTCDateTime

revision = '0005'
# The chain is re-linked at merge time (0003 and 0004 are being written elsewhere).
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('silences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author', sa.String(length=100), nullable=False,
                                      server_default=''))
    op.create_table('risk_notices',
    sa.Column('pair', sa.String(length=100), nullable=False),
    sa.Column('post_id', sa.String(length=32), nullable=False),
    sa.Column('notified_at', UTCDateTime(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('pair', 'post_id')
    )


def downgrade() -> None:
    op.drop_table('risk_notices')
    with op.batch_alter_table('silences', schema=None) as batch_op:
        batch_op.drop_column('author')
