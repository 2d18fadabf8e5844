# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service principal that a role assignment is for, from an object ID, an application ID or a display name.

Looked up through a ``GraphClient``, waiting (``_wait.Wait``) while Microsoft
Graph does not show a principal created moments ago; nothing here knows
about Ansible.  The errors name the option the principal came from.
"""

from __future__ import annotations

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._guid import require_guid


def resolve_principal(graph, params, timeout, wait):
    """``{'object_id', 'app_id', 'display_name', 'resolved_from'}`` for the principal options.

    ``principal_id`` is used as given (no Graph call).  ``app_id`` and
    ``principal_name`` are looked up, again with backoff (``wait``, a
    ``_wait.Wait``) for up to ``timeout`` seconds while Graph finds nothing;
    an ambiguous name fails listing the candidates.
    """
    if params.get('principal_id'):
        return {'object_id': require_guid(params['principal_id'], 'principal_id'), 'app_id': None,
                'display_name': None, 'resolved_from': 'principal_id'}
    if params.get('app_id'):
        option, value = 'app_id', require_guid(params['app_id'], 'app_id')
        lookup = graph.service_principals_by_app_id
        what = 'with application (client) ID %s' % value
    else:
        option, value = 'principal_name', params['principal_name']
        lookup = graph.service_principals_by_display_name
        what = 'named %r' % value
    found, waited = None, 0.0
    for waited in wait.tries(timeout):
        found = lookup(value)
        if found:
            break
    else:
        raise ValidationError('%s: Microsoft Graph has no service principal %s (waited %.0fs for replication).'
                              ' Create it first (azmon.metrics.service_principal), or check the value.'
                              % (option, what, waited), option=option)
    if len(found) > 1:
        candidates = [{'object_id': sp.get('id'), 'app_id': sp.get('appId'), 'display_name': sp.get('displayName')}
                      for sp in found]
        listed = '; '.join('%s (object ID %s, app ID %s)' % (c['display_name'], c['object_id'], c['app_id'])
                           for c in candidates)
        raise ValidationError('%s: %d service principals are %s: %s. Use app_id or principal_id to choose one.'
                              % (option, len(found), what, listed), option=option, candidates=candidates)
    sp = found[0]
    return {'object_id': require_guid(sp.get('id'), 'the id Graph returned'), 'app_id': sp.get('appId'),
            'display_name': sp.get('displayName'), 'resolved_from': option}
