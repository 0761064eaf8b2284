"""Open data exports of consultations (CSV and JSON)."""
