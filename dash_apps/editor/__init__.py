"""The Editor app (`/dashboard-edit/<id>`): editors and owners change dashboards."""
