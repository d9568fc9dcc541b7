"""The OpenAPI document as this server's settings make it: what a code looks like depends on
`HONNIN_CODE_LENGTH`, so the pattern of every code field is set from it when the document is
first built."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from honnin.api.actions import DEFAULT_CODE_PATTERN, code_pattern


def _with_code_length(node: Any, pattern: str) -> Any:
    if isinstance(node, dict):
        if node.get("pattern") == DEFAULT_CODE_PATTERN:
            return {**node, "pattern": pattern}
        return {key: _with_code_length(value, pattern) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_code_length(item, pattern) for item in node]
    return node


def install(app: FastAPI, *, code_length: int) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document: dict[str, Any] = _with_code_length(build(), code_pattern(code_length))
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
