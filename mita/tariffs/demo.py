"""The demo's tariffs (filled in below)."""
