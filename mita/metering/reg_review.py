"""Registrations of metering: review (cards, panels, benchmarks, demo steps)."""
