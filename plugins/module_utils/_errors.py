# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exception types shared by the azmon.metrics clients.

Nothing here knows about Ansible.  Every error carries a human message plus
structured details; ``_module.run_module`` turns them into ``fail_json`` in
one place.  Keys whose value is ``None`` are left out of the result.
"""

from __future__ import annotations


class AzmonError(Exception):
    """Base class: a message for a person and structured details for tools."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details

    def to_result(self):
        result = {k: v for k, v in self.details.items() if v is not None}
        result['msg'] = self.msg
        return result


class ConfigError(AzmonError):
    """Options that contradict each other or are incomplete; raised before any network call."""


class ValidationError(AzmonError):
    """Input that breaks a documented rule; raised before anything is sent."""


class MissingLibraryError(AzmonError):
    """A Python library the module needs at run time is not installed."""

    def __init__(self, library, traceback=None):
        super().__init__('Failed to import the required Python library (%s)' % library, library=library)
        self.library = library
        self.traceback = traceback


class AuthError(AzmonError):
    """Signing in failed (bad credentials, sign-in outage, unusable token)."""


class TransportError(AzmonError):
    """No HTTP answer came back.

    ``sent`` says whether the request may have reached the service:
    ``False`` when the connection could not be made (nothing was delivered),
    ``True`` when it broke after the request was written (the service may
    have acted on it).
    """

    def __init__(self, msg, sent, **details):
        super().__init__(msg, **details)
        self.sent = sent


class ServiceError(AzmonError):
    """The service answered with an error status."""

    def __init__(self, msg, status=None, code=None, message=None, request_id=None, **details):
        super().__init__(msg, status=status, error_code=code, error_message=message, request_id=request_id, **details)
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id

    def recast(self, cls, msg, **extra):
        """This error as ``cls`` (a ``ServiceError`` class) with a better message and ``extra`` details.

        The HTTP status, the service's error code and message, the request id
        and every other detail are kept.
        """
        details = {k: v for k, v in self.details.items()
                   if k not in ('status', 'error_code', 'error_message', 'request_id')}
        details.update(extra)
        return cls(msg, status=self.status, code=self.code, message=self.message, request_id=self.request_id, **details)
