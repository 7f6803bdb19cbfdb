"""REST API tests: real services and gateway over HTTP."""
