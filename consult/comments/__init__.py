"""Comment threads on plan items, amendments and consultations."""
