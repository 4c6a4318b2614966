"""Alembic environment: runs on the connection that matcher.migrate passes in."""

from alembic import context

from matcher.store import Base

config = context.config
target_metadata = Base.metadata

connection = config.attributes.get("connection")
if connection is None:  # used from the alembic command line
    from sqlalchemy import create_engine

    connectable = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
