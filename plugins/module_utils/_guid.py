# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GUIDs: the check every ID passes before it goes into a request URL.

Azure names subscriptions, tenants, principals, applications, role
definitions and role assignments by GUIDs, in any letter case.  Nothing here
knows about Ansible or the network.
"""

from __future__ import annotations

import re

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError

GUID_RE = re.compile(r'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')


def is_guid(value):
    return isinstance(value, str) and bool(GUID_RE.match(value))


def require_guid(value, option):
    """``value`` in lower case when it is a GUID, else ``ValidationError`` naming ``option``."""
    if not is_guid(value):
        raise ValidationError('%s must be a GUID like 00000000-0000-0000-0000-000000000000, got %r' % (option, value),
                              option=option)
    return value.lower()
