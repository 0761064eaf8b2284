"""time zones: each member's zone, digest hour and calendar feed secret

Revision ID: 0014_time_zones
Revises: 0013_page_cache
Create Date: 2026-12-03 12:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_time_zones'
down_revision = '0013_page_cache'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('digest_hour', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('calendar_key', sa.String(length=64), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_users_digest_hour'), 'digest_hour >= 0 AND digest_hour <= 23'
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_digest_hour'), type_='check')
        batch_op.drop_column('calendar_key')
        batch_op.drop_column('digest_hour')
        batch_op.drop_column('timezone')
