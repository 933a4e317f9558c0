"""Activities: adapters that each open their own DB session, re-read rows by id, and are idempotent."""
