"""HTTP API: thin routers, one per resource, under `/api`."""
