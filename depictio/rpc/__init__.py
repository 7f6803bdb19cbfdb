"""gRPC runtime shared by every service: server bootstrap, interceptors, channels."""
