"""Where the registry keeps things: SQL metadata and content-addressed artifacts."""
