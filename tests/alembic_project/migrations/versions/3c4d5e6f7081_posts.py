"""posts, with a first post

Revision ID: 3c4d5e6f7081
Revises: 1a2b3c4d5e6f
Create Date: 2024-03-02 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '3c4d5e6f7081'
down_revision = '1a2b3c4d5e6f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'posts',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('user_id', sa.Integer, sa.ForeignKey('users.id'), nullable=False),
        sa.Column('title', sa.String(200), nullable=False),
    )
    op.execute("INSERT INTO users (id, name) VALUES (1, 'O''Brien')")
    op.execute("INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'hello; world')")


def downgrade():
    op.execute("DELETE FROM posts")
    op.drop_table('posts')
    op.execute(sa.text("DELETE FROM users WHERE id = :id").bindparams(id=1))
