"""account lifecycle: email change, deletion, two-step sign-in

Revision ID: 0020_account_lifecycle
Revises: 0019_consultation_threads
Create Date: 2026-12-03 18:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

import consult.database

# revision identifiers, used by Alembic.
revision = '0020_account_lifecycle'
down_revision = '0019_consultation_threads'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('deleted_at', consult.database.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
