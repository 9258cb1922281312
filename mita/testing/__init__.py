"""Test support shared by the apps' test suites: factories, personas, and fakes' harnesses."""
