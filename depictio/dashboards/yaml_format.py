"""Dashboards as YAML text: export, and the offline pass of import."""

from __future__ import annotations

from typing import Any

import yaml

from depictio.dashboards.models import DashboardDocument, DashboardYaml
from depictio.dashboards.validation import parse_document
from depictio.projects.parsing import load_config_text


def document_data(document: DashboardDocument) -> dict[str, Any]:
    """The JSON-ready content of a document, only its DashboardDocument fields, in order."""
    return document.model_dump(mode="json", include=set(DashboardDocument.model_fields))


def export_yaml(document: DashboardDocument, project_id: str) -> str:
    """The YAML text of a dashboard: the format marker and project first, then the content."""
    data = {"depictio_dashboard": 1, "project_id": project_id, **document_data(document)}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def import_yaml(text: str) -> DashboardYaml:
    """Pass one of an import: the YAML parsed and checked against the format, offline."""
    document = parse_document(load_config_text(text, "yaml", "dashboard YAML"), DashboardYaml)
    assert isinstance(document, DashboardYaml)
    return document
