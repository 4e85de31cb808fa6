"""Add callback scheduling and call attempts

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answered_by', sa.String(length=24), nullable=True),
    sa.Column('error_code', sa.String(length=16), nullable=True),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_sid'),
    sa.UniqueConstraint('callback_id', 'number', name='uq_attempts_callback_number')
    )
    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_attempts_callback_id'), ['callback_id'], unique=False)

    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('factory_code', sa.String(length=16), nullable=True))

    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('window_start', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('window_end', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('preferred_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('consent', sa.Boolean(), nullable=False))
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('late', sa.Boolean(), nullable=False))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('last_outcome', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_callbacks_due_at'), ['due_at'], unique=False)
        batch_op.create_unique_constraint('uq_callbacks_audit_worker', ['audit_id', 'worker_id'])



def downgrade() -> None:
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_constraint('uq_callbacks_audit_worker', type_='unique')
        batch_op.drop_index(batch_op.f('ix_callbacks_due_at'))
        batch_op.drop_column('last_outcome')
        batch_op.drop_column('attempts')
        batch_op.drop_column('late')
        batch_op.drop_column('due_at')
        batch_op.drop_column('consent')
        batch_op.drop_column('preferred_date')
        batch_op.drop_column('window_end')
        batch_op.drop_column('window_start')

    with op.batch_alter_table('audits', schema=None) as batch_op:
        batch_op.drop_column('factory_code')

    with op.batch_alter_table('call_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_attempts_callback_id'))

    op.drop_table('call_attempts')
