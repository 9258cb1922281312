"""The demo's servicing (filled in below)."""
