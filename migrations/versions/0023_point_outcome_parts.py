"""point outcome parts: what an assembly vote decided, said in each reader's language

Revision ID: 0023_point_outcome_parts
Revises: 0022_data_generation
Create Date: 2026-12-03 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_point_outcome_parts'
down_revision = '0022_data_generation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assembly_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome_parts', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('assembly_points', schema=None) as batch_op:
        batch_op.drop_column('outcome_parts')
