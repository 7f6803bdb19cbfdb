#!/usr/bin/env bash
# Generates Python messages, gRPC stubs and typing stubs from protos/ into the given folder.
set -euo pipefail
out=${1:?usage: gen-protos.sh OUT_DIR (e.g. depictio/v1)}
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$root/.venv/bin:$PATH"
py="$root/.venv/bin/python"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" -m grpc_tools.protoc -I "$root/protos" \
  --python_out="$work" --grpc_python_out="$work" \
  --mypy_out="$work" --mypy_grpc_out="$work" \
  "$root"/protos/depictio/v1/*.proto
mkdir -p "$out"
rm -f "$out"/*_pb2.py "$out"/*_pb2.pyi "$out"/*_pb2_grpc.py "$out"/*_pb2_grpc.pyi
cp "$work"/depictio/v1/* "$out"/
printf '"""Generated from protos/depictio/v1 by `make protos`; never edit by hand."""\n' > "$out/__init__.py"
echo "generated $(ls "$out" | wc -l) files in $out"
