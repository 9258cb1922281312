"""Registrations of metering: field (cards, panels, benchmarks, demo steps)."""
