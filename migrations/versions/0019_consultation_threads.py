"""consultation threads and second readings

Revision ID: 0019_consultation_threads
Revises: 0018_amendment_identifiers
Create Date: 2026-12-03 18:30:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0019_consultation_threads'
down_revision = '0018_amendment_identifiers'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
