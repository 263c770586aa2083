"""The wire contract between a station and the provincial platform, shared by both sides (API version 1).

`models` holds the request and answer bodies, `signing` the request signature. The OpenAPI document generated
from the reference server is kept in `openapi.json` next to this file and checked against the server by a test.
"""

from sync.protocol.models import API_PREFIX, API_VERSION, SERVICE_NAME

__all__ = ["API_PREFIX", "API_VERSION", "SERVICE_NAME"]
