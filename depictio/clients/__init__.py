"""Typed clients of the three services; every call carries a deadline and the caller's token."""
