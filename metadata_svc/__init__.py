"""metadata_svc: projects, workflows, data collections, runs, files, dashboards, access."""
