"""The versioned JSON API (``/api/v1/``), its personal tokens and its OpenAPI document."""
