"""Depictio: interactive dashboards over the outputs of bioinformatics workflows."""

__version__ = "0.1.0"
