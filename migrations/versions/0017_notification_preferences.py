"""notification preferences per forum and kind of event; mute and follow

Revision ID: 0017_notification_preferences
Revises: 0016_forum_line_length
Create Date: 2026-12-03 18:30:00.000000

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0017_notification_preferences'
down_revision = '0016_forum_line_length'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
