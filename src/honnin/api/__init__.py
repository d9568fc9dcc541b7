"""The JSON API (OpenAPI): a skin over the same services the pages use."""
