# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The header and claims of a JWT, read without verifying its signature.

Only to name a principal or an expiry in messages and to refuse what is not a
token before it is sent; the service that receives a token verifies it.
"""

from __future__ import annotations

import base64
import json


def decode_part(part):
    """A base64url-encoded JSON object (one part of a JWT), or ``{}`` when it is not one."""
    try:
        doc = json.loads(base64.urlsafe_b64decode((part + '=' * (-len(part) % 4)).encode('ascii')))
    except (ValueError, TypeError, UnicodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def header(token):
    """The header of a JWT (``alg``, ``kid``, ...), ``{}`` when not a JWT."""
    return decode_part(token.split('.')[0])


def claims(token):
    """The claims of a JWT, ``{}`` when not a JWT."""
    parts = token.split('.')
    return decode_part(parts[1]) if len(parts) > 1 else {}
