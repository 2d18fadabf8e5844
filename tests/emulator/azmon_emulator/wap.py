"""Stub."""

from .web import Service


class WapService(Service):
    name = "wap"

    def handle(self, req):
        return self.error(404, "NotFound", "not yet")
