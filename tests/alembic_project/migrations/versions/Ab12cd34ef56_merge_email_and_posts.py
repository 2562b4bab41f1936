"""merge email and posts; count views

Revision ID: Ab12cd34ef56
Revises: 2b3c4d5e6f70, 3c4d5e6f7081
Create Date: 2024-03-04 08:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'Ab12cd34ef56'
down_revision = ('2b3c4d5e6f70',
                 '3c4d5e6f7081')  # a merge
branch_labels = None
depends_on = ['d1e2f3a4b5c6']


def upgrade():
    op.add_column('posts', sa.Column('views', sa.Integer, nullable=False, server_default='0'))
    op.bulk_insert(
        sa.table('audit_log', sa.column('what', sa.Text)),
        [{'what': "merged: it's done"}, {'what': None}],
    )


def downgrade():
    op.execute("DELETE FROM audit_log")
    with op.batch_alter_table('posts') as batch:
        batch.drop_column('views')
