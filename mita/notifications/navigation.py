"""The notifications app's home card."""
