"""audit log

Revision ID: d1e2f3a4b5c6
Revises:
Create Date: 2024-03-03 09:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "d1e2f3a4b5c6"
down_revision = None
branch_labels = "audit"
depends_on = None


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, server_default=sa.func.current_timestamp()),
        sa.Column("what", sa.Text),
    )


def downgrade():
    op.drop_table("audit_log")
