"""Taste: show features, engagement weights, personas, and the shape of viewing over time."""
