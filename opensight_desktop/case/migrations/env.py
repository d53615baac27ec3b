"""Alembic environment: always run in-process on a connection the app hands over.

The caller (``case.schema``) opens one transaction around the whole upgrade, so a
failed upgrade leaves the case file exactly as it was.
"""

from alembic import context

from opensight_desktop.case.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
