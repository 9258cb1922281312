"""Registrations of metering: readings (cards, panels, benchmarks, demo steps)."""
