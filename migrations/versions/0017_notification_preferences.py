"""notification preferences per forum and kind of event; mute and follow

Revision ID: 0017_notification_preferences
Revises: 0016_forum_line_length
Create Date: 2026-12-03 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import consult.database


# revision identifiers, used by Alembic.
revision = '0017_notification_preferences'
down_revision = '0016_forum_line_length'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('forum_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=False),
    sa.Column('frequency', sa.String(length=12), nullable=False),
    sa.CheckConstraint("topic IN ('my_amendments', 'group_sections', 'replies_mentions', 'phases_votes')", name=op.f('ck_notification_preferences_topic')),
    sa.CheckConstraint("frequency IN ('immediately', 'daily', 'weekly', 'never')", name=op.f('ck_notification_preferences_frequency')),
    sa.ForeignKeyConstraint(['forum_id'], ['forums.id'], name=op.f('fk_notification_preferences_forum_id_forums'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', 'forum_id', 'topic', name=op.f('uq_notification_preferences_user_id_forum_id_topic'))
    )
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_preferences_forum_id'), ['forum_id'], unique=False)

    op.create_table('notification_watches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('created_at', consult.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("target_type IN ('amendment', 'thread')", name=op.f('ck_notification_watches_target_type')),
    sa.CheckConstraint("state IN ('follow', 'mute')", name=op.f('ck_notification_watches_state')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_watches_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_watches')),
    sa.UniqueConstraint('user_id', 'target_type', 'target_id', name=op.f('uq_notification_watches_user_id_target_type_target_id'))
    )
    with op.batch_alter_table('notification_watches', schema=None) as batch_op:
        batch_op.create_index('ix_notification_watches_target', ['target_type', 'target_id'], unique=False)


def downgrade():
    with op.batch_alter_table('notification_watches', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_watches_target')
    op.drop_table('notification_watches')
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_preferences_forum_id'))
    op.drop_table('notification_preferences')
