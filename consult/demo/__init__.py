"""Demo data for `make run`, and the sample plan documents (copied from real plans)."""
