"""data generation: a number moved on by every write, under which whole pages are kept

Revision ID: 0022_data_generation
Revises: 0021_forum_archive
Create Date: 2026-12-03 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_data_generation'
down_revision = '0021_forum_archive'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_generation')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(sa.schema.CreateSequence(sa.Sequence('data_generation_seq')))


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(sa.schema.DropSequence(sa.Sequence('data_generation_seq')))
    op.drop_table('data_generation')
