"""Depictio project configs: models, parsing with field paths, cross-field checks."""
