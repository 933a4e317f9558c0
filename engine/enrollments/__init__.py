"""Enrollments: one customer's pass through one journey version, run as a Temporal workflow."""
