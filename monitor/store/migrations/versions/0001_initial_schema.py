"""initial schema

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.types import PortableJSON, UTCDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('username_key', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_detail', sa.Text(), nullable=True),
    sa.Column('previous_usernames', PortableJSON, nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'username_key', name='uq_accounts_username')
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_user_id'), ['user_id'], unique=False)

    op.create_table('calibrations',
    sa.Column('pair', sa.String(length=100), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('computed_at', UTCDateTime(), nullable=False),
    sa.Column('values', PortableJSON, nullable=False),
    sa.PrimaryKeyConstraint('pair', 'model')
    )
    op.create_table('kv',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', PortableJSON, nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('ingest_state',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('since_id', sa.String(length=32), nullable=True),
    sa.Column('run_newest_id', sa.String(length=32), nullable=True),
    sa.Column('run_until_id', sa.String(length=32), nullable=True),
    sa.Column('run_floor_id', sa.String(length=32), nullable=True),
    sa.Column('run_start_time', UTCDateTime(), nullable=True),
    sa.Column('last_run_at', UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('post_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.String(length=32), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('lang', sa.String(length=16), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('referenced_ids', PortableJSON, nullable=False),
    sa.Column('referenced_accounts', PortableJSON, nullable=False),
    sa.Column('urls', PortableJSON, nullable=False),
    sa.Column('hashtags', PortableJSON, nullable=False),
    sa.Column('mentions', PortableJSON, nullable=False),
    sa.Column('edit_history', PortableJSON, nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('ingested_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'post_id', name='uq_posts_platform_post_id')
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_account_created', ['account_id', 'created_at'], unique=False)

    op.create_table('read_counts',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('posts_read', sa.BigInteger(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'month')
    )
    op.create_table('embeddings',
    sa.Column('post_pk', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['post_pk'], ['posts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_pk', 'model')
    )
    op.create_table('findings',
    sa.Column('pair', sa.String(length=100), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('post_pk', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('post_class', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('similarity', sa.Float(), nullable=True),
    sa.Column('lexical', sa.Float(), nullable=True),
    sa.Column('nearest_post_id', sa.String(length=32), nullable=True),
    sa.Column('line_similarity', sa.Float(), nullable=True),
    sa.Column('offlimits_topic', sa.String(length=100), nullable=True),
    sa.Column('offlimits_similarity', sa.Float(), nullable=True),
    sa.Column('shared_terms', PortableJSON, nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('thresholds_key', sa.String(length=64), nullable=False),
    sa.Column('analysed_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_pk'], ['posts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pair', 'model', 'post_pk')
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_pair_created', ['pair', 'model', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_pair_created')

    op.drop_table('findings')
    op.drop_table('embeddings')
    op.drop_table('read_counts')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_account_created')

    op.drop_table('posts')
    op.drop_table('ingest_state')
    op.drop_table('kv')
    op.drop_table('calibrations')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_user_id'))

    op.drop_table('accounts')
