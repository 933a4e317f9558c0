"""The embedded stack behind `journeys dev` and the tests: PostgreSQL and Temporal from wheels."""
