"""data_svc: Delta tables — write, scan and query as Arrow IPC streams."""
