"""Scoring stages against hand-made gold files (tests/gold/)."""
