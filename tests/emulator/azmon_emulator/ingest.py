"""Stub."""

from .web import Service


class IngestService(Service):
    name = "ingest"

    def handle(self, req):
        return self.error(404, "NotFound", "not yet")
