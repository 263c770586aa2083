"""The station's sync engine: drains the outbox, pulls status and catalogue, reports its state.

The engine knows the platform API (`sync.client`) and a storage interface (`SyncStore`); the station's
application layer implements that interface over its database, so `sync` never imports the station's internals.
"""

from sync.engine.engine import SyncEngine, SyncReport
from sync.engine.store import ItemProblem, Job, QueueSummary, SyncStatus, SyncStore

__all__ = ["ItemProblem", "Job", "QueueSummary", "SyncEngine", "SyncReport", "SyncStatus", "SyncStore"]
