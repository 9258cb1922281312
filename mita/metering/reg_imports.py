"""Registrations of metering: imports (cards, panels, benchmarks, demo steps)."""
