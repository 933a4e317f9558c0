"""HTTP transport: thin routes over engine services (docs/architecture.md)."""
