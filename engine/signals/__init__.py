"""Live profile signals (DESIGN.md section 4)."""
