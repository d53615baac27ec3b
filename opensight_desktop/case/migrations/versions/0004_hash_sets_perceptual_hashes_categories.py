"""Hash sets matched against the case, perceptual hashes, VICS categories, filter indexes.

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The description of each hash set a match used (the set itself stays in the data
    # directory, shared by all cases): what the report's method names.
    op.create_table(
        "hashset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("imported_utc", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "source_sha256", name="uq_hashset_name_source"),
    )
    op.create_table(
        "hashset_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("hashset_id", sa.Integer(), nullable=False),
        sa.Column("hash_kind", sa.String(length=8), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["hashset_id"], ["hashset.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["evidence_item.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hashset_hit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hashset_hit_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hashset_hit_hashset_id"), ["hashset_id"], unique=False)

    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phash", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("vics_category", sa.Integer(), nullable=True))
        batch_op.create_index("ix_evidence_item_md5", ["md5"], unique=False)
        batch_op.create_index("ix_evidence_item_sha1", ["sha1"], unique=False)
        batch_op.create_index("ix_evidence_item_review_state", ["review_state"], unique=False)
    # Filters of the triage view: camera, capture date, located items, folder.
    with op.batch_alter_table("item_metadata", schema=None) as batch_op:
        batch_op.create_index(
            "ix_item_metadata_datetime_original", ["datetime_original"], unique=False
        )
        batch_op.create_index(
            "ix_item_metadata_camera", ["camera_make", "camera_model"], unique=False
        )
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_file_path", ["path"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_file_path")
    with op.batch_alter_table("item_metadata", schema=None) as batch_op:
        batch_op.drop_index("ix_item_metadata_camera")
        batch_op.drop_index("ix_item_metadata_datetime_original")
    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_item_review_state")
        batch_op.drop_index("ix_evidence_item_sha1")
        batch_op.drop_index("ix_evidence_item_md5")
        batch_op.drop_column("vics_category")
        batch_op.drop_column("phash")
    op.drop_table("hashset_hit")
    op.drop_table("hashset")
