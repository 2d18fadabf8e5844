"""Stub."""

from .web import Service


class GraphService(Service):
    name = "graph"

    def handle(self, req):
        return self.error(404, "NotFound", "not yet")
