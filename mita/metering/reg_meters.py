"""Registrations of metering: meters (cards, panels, benchmarks, demo steps)."""
