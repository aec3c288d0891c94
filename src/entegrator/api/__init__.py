"""The REST API (FastAPI); ``create_app(runtime)`` builds it."""
