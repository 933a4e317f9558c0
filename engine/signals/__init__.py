"""Live profile signals (docs/api.md, Profiles and signals)."""
