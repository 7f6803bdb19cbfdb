"""Depictio dashboards: the format (pydantic models, JSON Schema), validation and YAML."""
