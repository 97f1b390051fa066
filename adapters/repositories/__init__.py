"""SQL implementations of the ports of `handlers.ports`, shared by every backend."""
