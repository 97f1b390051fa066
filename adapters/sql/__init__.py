"""SQL shared by every backend: statements compiled once per dialect, run on the raw driver."""
