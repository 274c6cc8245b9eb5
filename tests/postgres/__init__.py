"""PostgreSQL backend tests (backends.md DT-1..DT-9); all marked ``postgres``."""
