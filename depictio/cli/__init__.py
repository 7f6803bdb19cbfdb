"""The `depictio` command line: `depictio up`, `depictio version` and, later, ingestion."""

import os

# The supervisor probes children over gRPC and starts others meanwhile; gRPC's fork handlers
# can then crash a child between fork and exec (grpc/grpc#43055). Set before grpc is imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
