"""The payments app's home cards (filled in with the payment pages)."""
