# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names of what became of a request or a series on the emission path, in one place.

The sender (``_ingest``), the ledgers (``_ledger``, ``_blob_ledger``, ``_reconcile``) and the emission
(``_emit``) all speak these; the strings are the ones results show, so they never change.
"""

from __future__ import annotations

# A request, and a series-minute as the ledger records it.
PENDING = 'pending'          # claimed in the ledger: a process is sending it right now
DELIVERED = 'delivered'      # the service accepted the request that carried it
FAILED = 'failed'            # certainly not ingested; safe to send again
UNKNOWN = 'unknown'          # may or may not have been ingested; not sent again unless asked

# A series in an emission's result (``status``); besides FAILED and UNKNOWN above.
SENT = 'sent'                        # delivered by this run
SKIPPED = 'skipped'                  # delivered by an earlier run
UNKNOWN_SKIPPED = 'unknown_skipped'  # an earlier run could not tell; not sent again without resend_unknown
IN_FLIGHT = 'in_flight'              # another live process is sending it right now
NOT_SENT = 'not_sent'                # left out after a failure that would repeat for every request
NOT_RECORDED = 'not_recorded'        # went out (delivered or unknown), but the ledger could not record it
WOULD_SEND = 'would_send'            # check mode
