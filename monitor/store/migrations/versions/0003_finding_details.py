"""findings: subkind, substance, days apart, per-post chance level

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('findings') as batch:
        batch.add_column(sa.Column('subkind', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('substance', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('days_apart', sa.Float(), nullable=True))
        batch.add_column(sa.Column('p_value', sa.Float(), nullable=True))
        batch.add_column(sa.Column('q_value', sa.Float(), nullable=True))
    # Findings computed by the previous rules are recomputed: their thresholds no longer exist.
    op.execute("DELETE FROM findings")
    op.execute("DELETE FROM calibrations")


def downgrade() -> None:
    with op.batch_alter_table('findings') as batch:
        for name in ('q_value', 'p_value', 'days_apart', 'substance', 'subkind'):
            batch.drop_column(name)
