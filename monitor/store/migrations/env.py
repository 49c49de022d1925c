"""Alembic environment: migrations run on the connection the monitor passes in."""

from __future__ import annotations

from alembic import context

from monitor.store.schema import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("monitor migrations run through monitor.store.migrate, with a connection")



def include_object(obj: object, name: str | None, type_: str, reflected: bool,
                   compare_to: object) -> bool:
    # APScheduler's job store shares the database; its table is not ours to migrate.
    return not (type_ == "table" and name == "apscheduler_jobs")


context.configure(
    connection=connection,
    include_object=include_object,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
