"""Add audits, callbacks and questionnaire answers

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('factory_id', sa.Integer(), nullable=True),
    sa.Column('supplier_reference', sa.String(length=64), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['factory_id'], ['factories.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('call_sid', sa.String(length=64), nullable=True),
    sa.Column('reschedule_ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callbacks_audit_id'), ['audit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_worker_id'), ['worker_id'], unique=False)

    op.create_table('questionnaire_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=32), nullable=False),
    sa.Column('answer', sa.String(length=12), nullable=False),
    sa.Column('input_method', sa.String(length=8), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['audits.id'], ),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('callback_id', 'question', name='uq_answers_callback_question')
    )
    with op.batch_alter_table('questionnaire_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_answers_audit_id'), ['audit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_questionnaire_answers_callback_id'), ['callback_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recording_url_ciphertext', sa.LargeBinary(), nullable=True))
        batch_op.create_foreign_key('fk_cases_callback_id', 'callbacks', ['callback_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('fk_cases_callback_id', type_='foreignkey')
        batch_op.drop_column('recording_url_ciphertext')
        batch_op.drop_column('callback_id')

    with op.batch_alter_table('questionnaire_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questionnaire_answers_callback_id'))
        batch_op.drop_index(batch_op.f('ix_questionnaire_answers_audit_id'))

    op.drop_table('questionnaire_answers')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callbacks_worker_id'))
        batch_op.drop_index(batch_op.f('ix_callbacks_audit_id'))

    op.drop_table('callbacks')
    op.drop_table('audits')
