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
    # A plan may have several consultations over time (first and second
    # reading): plan_id is no longer unique, the consultations are numbered.
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('number', sa.Integer(), server_default='1', nullable=False)
        )
        batch_op.drop_constraint('uq_consultations_plan_id', type_='unique')
        batch_op.create_unique_constraint(
            op.f('uq_consultations_plan_id_number'), ['plan_id', 'number']
        )
        batch_op.create_check_constraint(op.f('ck_consultations_number_positive'), 'number >= 1')


def downgrade():
    # Only the first consultation of each plan can stay (with its phases, also
    # where foreign keys are not enforced: SQLite).
    op.execute(
        'DELETE FROM consultation_phases WHERE consultation_id IN '
        '(SELECT id FROM consultations WHERE number > 1)'
    )
    op.execute('DELETE FROM consultations WHERE number > 1')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consultations_number_positive'), type_='check')
        batch_op.drop_constraint(op.f('uq_consultations_plan_id_number'), type_='unique')
        batch_op.create_unique_constraint('uq_consultations_plan_id', ['plan_id'])
        batch_op.drop_column('number')
