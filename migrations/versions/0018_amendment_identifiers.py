"""amendment identifiers across the forum: a plan's short name

Revision ID: 0018_amendment_identifiers
Revises: 0017_notification_preferences
Create Date: 2026-12-03 18:30:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0018_amendment_identifiers'
down_revision = '0017_notification_preferences'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
