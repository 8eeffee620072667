"""DuckDB storage: schema, connections, import ledger and published board runs."""

from wxrisk.store.db import connect, transaction

__all__ = ["connect", "transaction"]
