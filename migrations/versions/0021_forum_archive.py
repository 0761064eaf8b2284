"""forum archive: a forum archived stays readable and takes no more changes

Revision ID: 0021_forum_archive
Revises: 0020_account_lifecycle
Create Date: 2026-12-03 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import consult.database


# revision identifiers, used by Alembic.
revision = '0021_forum_archive'
down_revision = '0020_account_lifecycle'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('forums', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('archived_at', consult.database.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('forums', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
