"""Delivery: what a send or webhook node does, from policies and rendering to the channel adapters and
the delivery row that makes it happen once."""
