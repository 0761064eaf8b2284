"""job leases: plan exports count the runs that claimed them, and exports and
consolidations keep the running job's last heartbeat, so work whose worker died
is taken up again

Revision ID: 0011_job_leases
Revises: 0010
Create Date: 2026-12-03 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import consult.database


# revision identifiers, used by Alembic.
revision = '0011_job_leases'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('plan_exports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('heartbeat_at', consult.database.UTCDateTime(), nullable=True))
    with op.batch_alter_table('consolidations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', consult.database.UTCDateTime(), nullable=True))
    for table in ('plan_exports', 'consolidations'):
        op.execute(f"UPDATE {table} SET heartbeat_at = COALESCE(started_at, created_at)")


def downgrade():
    with op.batch_alter_table('consolidations', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
    with op.batch_alter_table('plan_exports', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('attempts')
