"""The floor of the comparison: a FastAPI JSON POST that does nothing (bench/verifications.py)."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Body(BaseModel):
    to: str


@app.post("/api/v1/verifications", status_code=201)
async def create(body: Body) -> dict[str, str]:
    return {"id": "x", "status": "pending", "to": body.to}
