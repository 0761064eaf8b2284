"""account lifecycle: email change, deletion, two-step sign-in

Revision ID: 0020_account_lifecycle
Revises: 0019_consultation_threads
Create Date: 2026-12-03 18:30:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0020_account_lifecycle'
down_revision = '0019_consultation_threads'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
