"""The one error type of the worker: an HTTP status, a stable code, a message and the offending field."""
from __future__ import annotations


class WorkerError(Exception):
    """A request the worker cannot carry out; maps to `{"error": {code, message, field}}` (Specs/worker.md §3)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def to_json(self) -> dict:
        err = {"code": self.code, "message": self.message}
        if self.field is not None:
            err["field"] = self.field
        return {"error": err}

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.code}{where}: {self.message}"
