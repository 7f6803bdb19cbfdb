"""The REST gateway: FastAPI in front of the gRPC services, verifying identity at the edge."""
