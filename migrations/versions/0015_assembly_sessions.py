"""assembly sessions: agenda points and the amendments they cover, the roll call
with times, the list of speakers; the minutes' columns

Revision ID: 0015_assembly_sessions
Revises: 0014_time_zones
Create Date: 2026-12-03 15:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import consult.database


# revision identifiers, used by Alembic.
revision = '0015_assembly_sessions'
down_revision = '0014_time_zones'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assembly_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('forum_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('starts_at', consult.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=False),
    sa.Column('chair_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('current_point_id', sa.Integer(), nullable=True),
    sa.Column('default_speaking_seconds', sa.Integer(), nullable=False),
    sa.Column('coalition_cap_seconds', sa.Integer(), nullable=True),
    sa.Column('amendment_rule', sa.String(length=12), nullable=False),
    sa.Column('approval_rule', sa.String(length=12), nullable=False),
    sa.Column('ranked_method', sa.String(length=8), nullable=False),
    sa.Column('quorum_kind', sa.String(length=8), nullable=False),
    sa.Column('quorum_value', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('quorum_base', sa.String(length=8), nullable=False),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('max_proxies', sa.Integer(), nullable=False),
    sa.Column('opened_at', consult.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('adjourned_at', consult.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', consult.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('minutes_json', sa.JSON(), nullable=True),
    sa.Column('minutes_signed_at', consult.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('minutes_signed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('scheduled', 'in_session', 'adjourned')", name=op.f('ck_assembly_sessions_state')),
    sa.CheckConstraint('default_speaking_seconds > 0', name=op.f('ck_assembly_sessions_default_speaking_positive')),
    sa.CheckConstraint('coalition_cap_seconds > 0', name=op.f('ck_assembly_sessions_coalition_cap_positive')),
    sa.CheckConstraint("amendment_rule IN ('simple', 'absolute', 'two_thirds')", name=op.f('ck_assembly_sessions_amendment_rule')),
    sa.CheckConstraint("approval_rule IN ('simple', 'absolute', 'two_thirds')", name=op.f('ck_assembly_sessions_approval_rule')),
    sa.CheckConstraint("ranked_method IN ('irv', 'schulze')", name=op.f('ck_assembly_sessions_ranked_method')),
    sa.CheckConstraint("quorum_kind IN ('none', 'count', 'share')", name=op.f('ck_assembly_sessions_quorum_kind')),
    sa.CheckConstraint("quorum_base IN ('ballots', 'present')", name=op.f('ck_assembly_sessions_quorum_base')),
    sa.CheckConstraint('quorum_value >= 0', name=op.f('ck_assembly_sessions_quorum_not_negative')),
    sa.CheckConstraint('max_proxies >= 0', name=op.f('ck_assembly_sessions_max_proxies_not_negative')),
    sa.ForeignKeyConstraint(['forum_id'], ['forums.id'], name=op.f('fk_assembly_sessions_forum_id_forums'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_assembly_sessions_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_assembly_sessions_plan_id_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chair_id'], ['users.id'], name=op.f('fk_assembly_sessions_chair_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_assembly_sessions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['minutes_signed_by_id'], ['users.id'], name=op.f('fk_assembly_sessions_minutes_signed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_sessions'))
    )
    with op.batch_alter_table('assembly_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembly_sessions_forum_id'), ['forum_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assembly_sessions_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('assembly_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('target_key', sa.String(length=16), nullable=True),
    sa.Column('poll_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('started_at', consult.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', consult.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('amendments', 'approval', 'other')", name=op.f('ck_assembly_points_kind')),
    sa.CheckConstraint("state IN ('pending', 'current', 'done')", name=op.f('ck_assembly_points_state')),
    sa.ForeignKeyConstraint(['session_id'], ['assembly_sessions.id'], name=op.f('fk_assembly_points_session_id_assembly_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_assembly_points_poll_id_polls'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_points'))
    )
    with op.batch_alter_table('assembly_points', schema=None) as batch_op:
        batch_op.create_index('ix_assembly_points_session_position', ['session_id', 'position'], unique=False)

    op.create_table('assembly_point_amendments',
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('amendment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['assembly_points.id'], name=op.f('fk_assembly_point_amendments_point_id_assembly_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['amendment_id'], ['amendments.id'], name=op.f('fk_assembly_point_amendments_amendment_id_amendments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('point_id', 'amendment_id', name=op.f('pk_assembly_point_amendments'))
    )
    with op.batch_alter_table('assembly_point_amendments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembly_point_amendments_amendment_id'), ['amendment_id'], unique=False)

    op.create_table('assembly_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', consult.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_out_at', consult.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_out_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['assembly_sessions.id'], name=op.f('fk_assembly_attendance_session_id_assembly_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assembly_attendance_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_assembly_attendance_marked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['checked_out_by_id'], ['users.id'], name=op.f('fk_assembly_attendance_checked_out_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_attendance'))
    )
    with op.batch_alter_table('assembly_attendance', schema=None) as batch_op:
        batch_op.create_index('ix_assembly_attendance_session_user', ['session_id', 'user_id'], unique=False)
        batch_op.create_index(
            'uq_assembly_attendance_open',
            ['session_id', 'user_id'],
            unique=True,
            postgresql_where=sa.text('checked_out_at IS NULL'),
            sqlite_where=sa.text('checked_out_at IS NULL'),
        )

    op.create_table('assembly_speakers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('coalition_id', sa.Integer(), nullable=True),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('requested_at', consult.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('called_at', consult.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', consult.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('time_limit_seconds', sa.Integer(), nullable=True),
    sa.CheckConstraint("side IN ('order', 'for', 'against')", name=op.f('ck_assembly_speakers_side')),
    sa.CheckConstraint("state IN ('waiting', 'speaking', 'done', 'withdrawn')", name=op.f('ck_assembly_speakers_state')),
    sa.CheckConstraint('time_limit_seconds > 0', name=op.f('ck_assembly_speakers_time_limit_positive')),
    sa.ForeignKeyConstraint(['session_id'], ['assembly_sessions.id'], name=op.f('fk_assembly_speakers_session_id_assembly_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['point_id'], ['assembly_points.id'], name=op.f('fk_assembly_speakers_point_id_assembly_points'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_assembly_speakers_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['coalition_id'], ['coalitions.id'], name=op.f('fk_assembly_speakers_coalition_id_coalitions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_speakers'))
    )
    with op.batch_alter_table('assembly_speakers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assembly_speakers_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_assembly_speakers_point_state', ['point_id', 'state'], unique=False)


def downgrade():
    with op.batch_alter_table('assembly_speakers', schema=None) as batch_op:
        batch_op.drop_index('ix_assembly_speakers_point_state')
        batch_op.drop_index(batch_op.f('ix_assembly_speakers_session_id'))
    op.drop_table('assembly_speakers')
    with op.batch_alter_table('assembly_attendance', schema=None) as batch_op:
        batch_op.drop_index('uq_assembly_attendance_open')
        batch_op.drop_index('ix_assembly_attendance_session_user')
    op.drop_table('assembly_attendance')
    with op.batch_alter_table('assembly_point_amendments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assembly_point_amendments_amendment_id'))
    op.drop_table('assembly_point_amendments')
    with op.batch_alter_table('assembly_points', schema=None) as batch_op:
        batch_op.drop_index('ix_assembly_points_session_position')
    op.drop_table('assembly_points')
    with op.batch_alter_table('assembly_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assembly_sessions_consultation_id'))
        batch_op.drop_index(batch_op.f('ix_assembly_sessions_forum_id'))
    op.drop_table('assembly_sessions')
