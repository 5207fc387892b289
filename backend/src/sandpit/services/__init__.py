"""Business logic, independent of HTTP: each function takes a database session."""
