"""The `depictio` command line: `depictio up`, `depictio version` and, later, ingestion."""
