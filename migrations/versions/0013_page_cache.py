"""page cache: rendered fragments kept in the database (consult/pagecache.py),
each plan's generation of activity (consult/plans/activity.py), and an index
for a page of a plan's amendments in order

Revision ID: 0013_page_cache
Revises: 0012_sign_in_throttle
Create Date: 2026-12-03 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import consult.database


# revision identifiers, used by Alembic.
revision = '0013_page_cache'
down_revision = '0012_sign_in_throttle'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'page_fragments',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.String(length=120), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('created_at', consult.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_page_fragments')),
    )
    with op.batch_alter_table('page_fragments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_fragments_scope'), ['scope'], unique=False)
    op.create_table(
        'plan_activity_stamps',
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['plan_id'], ['plans.id'],
            name=op.f('fk_plan_activity_stamps_plan_id_plans'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('plan_id', name=op.f('pk_plan_activity_stamps')),
    )
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.create_index('ix_amendments_plan_order', ['plan_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.drop_index('ix_amendments_plan_order')
    op.drop_table('plan_activity_stamps')
    with op.batch_alter_table('page_fragments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_fragments_scope'))
    op.drop_table('page_fragments')
