"""journeys engine: everything that is true regardless of transport (docs/architecture.md)."""
