"""Deterministic workflow code only: no I/O, no wall clock, no `random`, no database imports."""
