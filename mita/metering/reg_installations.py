"""Registrations of metering: installations (cards, panels, benchmarks, demo steps)."""
