"""auth_svc: users, sessions, API tokens and signing keys (gRPC AuthService)."""
