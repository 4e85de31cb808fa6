"""Add number reveal requests

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reveal_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reveal_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reveal_requests_escalation_id'), ['escalation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reveal_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reveal_requests_escalation_id'))

    op.drop_table('reveal_requests')
