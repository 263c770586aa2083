"""The station's side of sync: its outbox and records behind the engine's `SyncStore`, provisioning, status."""
