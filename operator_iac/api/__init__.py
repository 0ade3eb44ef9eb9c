"""The Operator API client: the only user of httpx, websockets and httpx-sse."""
