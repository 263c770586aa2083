"""The committed API document is exactly what the server generates, so the wire contract cannot drift unseen.

When this fails after a deliberate change, regenerate it: `kiosk-platform openapi --out sync/protocol/openapi.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

from sync.protocol.models import API_PREFIX
from sync.server.app import openapi_text

COMMITTED = Path(__file__).resolve().parents[2] / "sync" / "protocol" / "openapi.json"


def test_committed_openapi_matches_the_server() -> None:
    generated = openapi_text()
    assert generated == openapi_text(), "the document must be deterministic"
    assert COMMITTED.read_text(encoding="utf-8") == generated, (
        "sync/protocol/openapi.json is stale: run `kiosk-platform openapi --out sync/protocol/openapi.json`")


def test_openapi_documents_the_contract() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    paths = document["paths"]
    assert {f"{API_PREFIX}/{p}" for p in ("hello", "enrol", "catalog", "blobs/query", "blobs/{sha256}",
                                          "applications/{client_id}", "status", "evaluations/{evaluation_id}",
                                          "heartbeat")} == set(paths)
    status = paths[f"{API_PREFIX}/status"]["get"]
    assert {"X-Kiosk-Device", "X-Kiosk-Signature"} <= {p["name"] for p in status["parameters"]}
    assert status["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    blob_body = paths[f"{API_PREFIX}/blobs/{{sha256}}"]["put"]["requestBody"]["content"]
    assert "application/octet-stream" in blob_body
    assert "HTTPValidationError" not in document["components"]["schemas"]  # our 422 is an ErrorBody too
