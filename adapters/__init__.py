"""Store backends (SQLite, PostgreSQL, Oracle) behind one interface, and the MQTT client."""
