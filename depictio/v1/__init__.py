"""Generated from protos/depictio/v1 by `make protos`; never edit by hand."""
