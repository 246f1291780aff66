"""Where records live: an embedded SQLite file by default, InfluxDB 2.x for plants that run it.

Both sit behind one query interface (`store.base.Store`), so the report command and the dashboard
do not know which one they read.
"""

from store.base import Store, StoreError, WriteCounts, open_store

__all__ = ["Store", "StoreError", "WriteCounts", "open_store"]
