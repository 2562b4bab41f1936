"""user email

Revision ID: 2b3c4d5e6f70
Revises: 1a2b3c4d5e6f
Create Date: 2024-03-02 11:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '2b3c4d5e6f70'
down_revision = '1a2b3c4d5e6f'
branch_labels = ('accounts',)
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('email', sa.String(200), nullable=True))
    op.create_index('ix_users_email', 'users', ['email'], unique=True)


def downgrade():
    op.drop_index('ix_users_email', table_name='users')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('email')
