"""Initial schema: parks, enterprises, ingests, match runs, leads, meta.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # generated from matcher.store models at revision 0001
    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_norm", sa.String(length=300), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=50), nullable=True),
        sa.Column("legal_rep", sa.String(length=100), nullable=True),
        sa.Column("reg_capital", sa.Float(), nullable=True),
        sa.Column("reg_currency", sa.String(length=10), nullable=True),
        sa.Column("paid_capital", sa.Float(), nullable=True),
        sa.Column("paid_currency", sa.String(length=10), nullable=True),
        sa.Column("founded", sa.Date(), nullable=True),
        sa.Column("province", sa.String(length=50), nullable=True),
        sa.Column("city", sa.String(length=50), nullable=True),
        sa.Column("district", sa.String(length=50), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("industry", sa.String(length=300), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("intro", sa.Text(), nullable=True),
        sa.Column("company_type", sa.String(length=200), nullable=True),
        sa.Column("insured", sa.Integer(), nullable=True),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("phone", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=True),
        sa.Column("analyzer_version", sa.String(length=64), nullable=True),
        sa.Column("industry_codes", sa.JSON(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credit_code"),
    )
    op.create_index(op.f("ix_enterprises_external_id"), "enterprises", ["external_id"], unique=False)
    op.create_index(op.f("ix_enterprises_name_norm"), "enterprises", ["name_norm"], unique=False)
    op.create_index("ix_enterprises_name_province", "enterprises", ["name_norm", "province"], unique=False)
    op.create_index(op.f("ix_enterprises_province"), "enterprises", ["province"], unique=False)
    op.create_index(op.f("ix_enterprises_revision"), "enterprises", ["revision"], unique=False)
    op.create_table(
        "ingests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "matcher_meta",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "parks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("province", sa.String(length=50), nullable=True),
        sa.Column("city", sa.String(length=50), nullable=True),
        sa.Column("district", sa.String(length=50), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("target_regions", sa.JSON(), nullable=False),
        sa.Column("pinned_industries", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "match_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=True),
        sa.Column("park_name", sa.String(length=200), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("n_candidates", sa.Integer(), nullable=False),
        sa.Column("n_leads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["park_id"], ["parks.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["run_id"], ["match_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_leads_run_id"), "leads", ["run_id"], unique=False)


def downgrade() -> None:
    # generated from matcher.store models at revision 0001
    op.drop_index(op.f("ix_leads_run_id"), table_name="leads")
    op.drop_table("leads")
    op.drop_table("match_runs")
    op.drop_table("parks")
    op.drop_table("matcher_meta")
    op.drop_table("ingests")
    op.drop_index(op.f("ix_enterprises_revision"), table_name="enterprises")
    op.drop_index(op.f("ix_enterprises_province"), table_name="enterprises")
    op.drop_index("ix_enterprises_name_province", table_name="enterprises")
    op.drop_index(op.f("ix_enterprises_name_norm"), table_name="enterprises")
    op.drop_index(op.f("ix_enterprises_external_id"), table_name="enterprises")
    op.drop_table("enterprises")
