"""Signing keys of the examiners and Ed25519 signatures over the audit chain.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Both tables are append-only like the audit log itself: a key or signature once written
# stays. The triggers stop accidents; the signatures make deliberate edits detectable.
APPEND_ONLY = ("signing_key", "audit_signature")


def upgrade() -> None:
    op.create_table(
        "signing_key",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("user", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("added_utc", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint"),
    )
    op.create_table(
        "audit_signature",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("prev_seq", sa.Integer(), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_fingerprint"],
            ["signing_key.fingerprint"],
        ),
        sa.ForeignKeyConstraint(
            ["seq"],
            ["audit_entry.seq"],
        ),
        sa.PrimaryKeyConstraint("seq"),
    )
    for table in APPEND_ONLY:
        for event in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event} BEFORE {event.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    for table in APPEND_ONLY:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event}")
    op.drop_table("audit_signature")
    op.drop_table("signing_key")
