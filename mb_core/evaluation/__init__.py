"""Evaluation of a build: the builder's own probe tests, the test-results table's validation and the
confidence score (v4)."""
