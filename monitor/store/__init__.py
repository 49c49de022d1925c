"""The store: SQLAlchemy models, migrations and the repository (the only SQL in the monitor)."""

from monitor.store.repository import ImportResult, Store, StoredFinding, StoredPost, text_hash

__all__ = ["ImportResult", "Store", "StoredFinding", "StoredPost", "text_hash"]
