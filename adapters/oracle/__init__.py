"""Oracle backend: python-oracledb in thin mode (no Oracle client libraries needed)."""
