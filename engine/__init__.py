"""journeys engine: everything that is true regardless of transport (see DESIGN.md section 2)."""
