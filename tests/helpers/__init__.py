"""Helpers shared by the tests (importable as ``helpers.*``: pytest puts ``tests/`` on the path)."""
