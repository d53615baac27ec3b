"""Analysis runs, tile scans, and the stage (import or analysis) of an item's error.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("started_utc", sa.String(length=32), nullable=False),
        sa.Column("finished_utc", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("user", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("analyzed", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["detector_model.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "tile_scan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("created_utc", sa.String(length=32), nullable=False),
        sa.Column("tile_size", sa.Integer(), nullable=False),
        sa.Column("stride", sa.Integer(), nullable=False),
        sa.Column("tiles", sa.JSON(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["detector_model.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tile_scan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tile_scan_item_id"), ["item_id"], unique=False)

    with op.batch_alter_table("detection_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("analysis_run_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_detection_result_analysis_run_id", "analysis_run", ["analysis_run_id"], ["id"]
        )

    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_stage", sa.String(length=16), nullable=True))
    # Every error recorded before this revision happened at import.
    op.execute("UPDATE evidence_item SET error_stage = 'import' WHERE status = 'error'")


def downgrade() -> None:
    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.drop_column("error_stage")

    with op.batch_alter_table("detection_result", schema=None) as batch_op:
        batch_op.drop_constraint("fk_detection_result_analysis_run_id", type_="foreignkey")
        batch_op.drop_column("analysis_run_id")

    with op.batch_alter_table("tile_scan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tile_scan_item_id"))

    op.drop_table("tile_scan")
    op.drop_table("analysis_run")
