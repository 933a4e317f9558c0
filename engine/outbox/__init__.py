"""The transactional outbox: every stored event reaches the journeys it concerns, in each person's order,
once Temporal has acknowledged it (repository, dispatcher, router)."""
