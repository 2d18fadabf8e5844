"""Stub."""

from .web import Service


class ArmService(Service):
    name = "arm"

    def handle(self, req):
        return self.error(404, "NotFound", "not yet")
