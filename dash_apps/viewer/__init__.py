"""The Viewer app (`/dashboard/<id>`): a stored dashboard, filtered and cross-filtered."""
