"""Full-text search over the plans' items, amendments and comments."""
