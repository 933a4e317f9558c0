"""HTTP transport: thin routes over engine services (DESIGN.md section 2)."""
