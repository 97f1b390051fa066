"""PostgreSQL backend: psycopg 3 (sync) on the group-commit writer's own thread."""
