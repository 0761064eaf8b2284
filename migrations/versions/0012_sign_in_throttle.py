"""sign-in throttle: the client (remote address or known device) of each attempt

Revision ID: 0012_sign_in_throttle
Revises: 0011_job_leases
Create Date: 2026-12-03 12:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_sign_in_throttle'
down_revision = '0011_job_leases'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auth_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_auth_attempts_kind_client_at', ['kind', 'client', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('auth_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_attempts_kind_client_at')
        batch_op.drop_column('client')
