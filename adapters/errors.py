"""The store's own errors. Each adapter translates its driver's exceptions into these."""


class StoreError(Exception):
    """A store operation failed in a way the caller should treat as a bug or bad data."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or lost the connection; nothing was committed."""


class StoreConflict(StoreError):
    """A unique key was violated (e.g. the same message registered by another node)."""
