"""forum line length: characters per numbered line of a forum's plans, and
the exports made at each length

Revision ID: 0016_forum_line_length
Revises: 0015_assembly_sessions
Create Date: 2026-12-03 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_forum_line_length'
down_revision = '0015_assembly_sessions'
branch_labels = None
depends_on = None

OLD_UNIQUE = 'uq_plan_exports_version_id_fmt_locale_content_language'
NEW_UNIQUE = 'uq_plan_exports_rendering'


def upgrade():
    with op.batch_alter_table('forums', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('line_length', sa.Integer(), server_default='80', nullable=False)
        )
        batch_op.create_check_constraint(
            op.f('ck_forums_line_length'), 'line_length BETWEEN 40 AND 120'
        )
    with op.batch_alter_table('plan_exports', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('line_length', sa.Integer(), server_default='80', nullable=False)
        )
        batch_op.drop_constraint(OLD_UNIQUE, type_='unique')
        batch_op.create_unique_constraint(
            NEW_UNIQUE, ['version_id', 'fmt', 'locale', 'content_language', 'line_length']
        )


def downgrade():
    with op.batch_alter_table('plan_exports', schema=None) as batch_op:
        batch_op.drop_constraint(NEW_UNIQUE, type_='unique')
        batch_op.create_unique_constraint(
            OLD_UNIQUE, ['version_id', 'fmt', 'locale', 'content_language']
        )
        batch_op.drop_column('line_length')
    with op.batch_alter_table('forums', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_forums_line_length'), type_='check')
        batch_op.drop_column('line_length')
