"""The land registry: the parcel client (by UPI), and a fake land registry speaking the same protocol for the demo
and tests."""
