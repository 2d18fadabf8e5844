# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of every emission module: the entries, the delivery ledger and the size of requests and results
    # (plugins/module_utils/_emit_options.py, ENTRY_ARGSPEC and DELIVERY_ARGSPEC).
    DOCUMENTATION = r'''
options:
  metric:
    description:
      - Name of the metric, for a single metric (1 to 256 characters). Mutually exclusive with O(metrics),
        O(metrics_file) and O(metrics_src).
    type: str
  namespace:
    description:
      - Metric namespace (1 to 256 characters) for O(metric), and the default namespace of every O(metrics) entry.
      - Names starting with C(Microsoft.) and Azure's internal namespaces are refused, whatever their case.
    type: str
  dimensions:
    description:
      - Dimension names and values for O(metric), and dimensions added to every O(metrics) entry (an entry's own
        dimension of the same name wins).
      - At most 10 dimensions; names and values 1 to 256 characters; empty values are refused.
    type: dict
  value:
    description:
      - One observed value of O(metric) (sent as min = max = sum, count 1).
    type: raw
  values:
    description:
      - Raw observations of O(metric), aggregated here into min, max, sum and count.
    type: list
    elements: raw
  min:
    description:
      - Explicit aggregate of O(metric); give O(min), O(max), O(sum) and O(count) together.
    type: raw
  max:
    description:
      - Explicit aggregate of O(metric), see O(min).
    type: raw
  sum:
    description:
      - Explicit aggregate of O(metric), see O(min).
    type: raw
  count:
    description:
      - Explicit aggregate of O(metric), see O(min); a whole number from 1 to 2147483647.
    type: raw
  time:
    description:
      - Time of O(metric), and the default time of every O(metrics) entry.
      - ISO 8601 with a zone, ISO 8601 without a zone (taken as UTC), or epoch seconds. Truncated to the minute.
      - Must lie within 19 minutes in the past and 3 minutes in the future, inside the window Azure's custom
        metrics ingestion accepts; every emission module keeps to it, so that an entry is valid for each of them.
      - Defaults to now.
    type: raw
  dedupe_key:
    description:
      - Identifies O(metric)'s data point in the ledger instead of its minute, for values that are re-stamped to
        now (for example the source's own timestamp), so that one source value is sent once however often the task
        runs.
      - Also the default C(dedupe_key) of every O(metrics), O(metrics_file) or O(metrics_src) entry (an entry's own
        wins), a batch key, so that the same batch run again sends nothing while each of its series is recorded
        separately.
      - All entries of one series that share a key, whatever their times, are one unit; they travel in one request,
        so that the ledger's record of the key is true of every one of them.
    type: str
  metrics_file:
    description:
      - A file on the managed node holding the entries of O(metrics), as JSON (a list, or a mapping with a
        C(metrics) list), ndjson or JSON Lines (C(.ndjson), C(.jsonl), one entry a line) or YAML (C(.yml), C(.yaml)).
      - For large batches this is much cheaper than O(metrics), which Ansible templates entry by entry; O(metrics_src)
        is the same for a file on the controller.
      - Mutually exclusive with O(metric), O(metrics) and O(metrics_src).
    type: path
  metrics_src:
    description:
      - A file on the controller holding the entries of O(metrics), in any format O(metrics_file) reads. The action
        plugin copies it into the task's temporary folder on the managed node, where the module reads it as it reads
        O(metrics_file); the copy goes with that folder.
      - A relative path is looked up like the O(ansible.builtin.copy#module:src) of a copy task (the role's or
        playbook's C(files) folder, then the playbook's folder).
      - The way to emit thousands of entries kept on the controller. Given inline (O(metrics)), every entry is an
        Ansible value, which ansible-core templates one by one before the task starts (about 0.1 ms an entry, ten
        seconds for 100,000, whatever the module does), and loading a large list from a vars file costs even more; a
        file passes through Ansible as one path.
      - Mutually exclusive with O(metric), O(metrics) and O(metrics_file).
    type: path
  metrics:
    description:
      - Many metrics for the resource. Each entry is a mapping with the keys C(metric) (required),
        C(namespace), C(dimensions), C(time), C(dedupe_key), and its value as exactly one of C(value), C(values),
        or C(min), C(max), C(sum) and C(count), with the meaning of the options of the same names.
      - Entries for the same series and minute are added together, as Azure would.
      - A list of more than 1000 entries goes to the managed node as a file in the task's temporary folder, read like
        O(metrics_file), so that the module's arguments stay small; the result's C(invocation) then shows their number.
        For much larger lists, see O(metrics_src).
      - Mutually exclusive with O(metric), O(metrics_file) and O(metrics_src).
    type: list
    elements: dict
  dedupe:
    description:
      - Record delivered series in the ledger and skip those already delivered.
      - When V(false), the ledger is neither read nor written and every run sends everything.
    type: bool
    default: true
  ledger_path:
    description:
      - SQLite file of the delivery ledger. Created with mode 0600 in a folder of mode 0700; safe for many
        processes at once. Holds hashes of series identities and their states, and for series whose delivery is
        unknown the minute, sum and count that went out; never names, dimension values or secrets.
      - One file serves every emission module and destination, since the keys name the destination.
    type: path
    default: ~/.ansible/azmon_metrics/ledger.sqlite3
  ledger_url:
    description:
      - Keep the delivery ledger in Azure Blob Storage instead of O(ledger_path), so that every runner that
        reaches the container shares it (ephemeral CI runners, AWX execution nodes, several controllers). Give
        the container URL, with an optional prefix of folders, for example
        V(https://mystorage.blob.core.windows.net/azmon-ledger/prod). An IP address or C(localhost) as host
        means a path-style URL with the account first, as the storage emulator serves it
        (V(https://127.0.0.1:10000/devstoreaccount1/ledger)).
      - The module signs in to Blob Storage with the same options as for sending (token audience
        C(https://storage.azure.com)). The principal needs the Storage Blob Data Contributor role on the
        container or the account. A missing container is created (which needs the role on the account).
      - Four blobs under C({prefix}/azmon-ledger/v1/) hold the series-minute keys (hashes) and, for series whose
        delivery is unknown, the minute, sum and count that went out (for
        O(azmon.metrics.custom_metric_emit#module:unknown=reconcile)); never names, dimension values or secrets.
        Every change is a conditional write, so concurrent runners never both send a series. Claiming
        and settling one request costs at most about a dozen storage calls whatever its size, and a run that
        has nothing to send reads four blobs.
      - A claim expires 30 minutes after it was taken, because a runner on another host cannot check whether the
        claiming process still lives; only then are the series of a runner that died while sending reported
        C(unknown). A sender never sends after 20 minutes (the ingestion window), so a live claim never expires
        while its request may still be sent.
      - Keys older than O(ledger_retention_days) are removed on every write.
      - If the ledger cannot be read or written before anything was sent, the task fails and sends nothing.
        If it fails after a request was sent, the series of that request are reported (status
        V(not_recorded)) and stay claimed, so no later run sends them again silently.
    type: str
  ledger_retention_days:
    description:
      - Ledger rows of O(dedupe_key) values older than this many days are removed. Keep it longer than the time
        O(dedupe_key) values may come back.
      - A series-minute without O(dedupe_key) cannot be sent again once its minute is out of the ingestion window
        (points older than 19 minutes are refused before anything is sent), so its row is removed two hours after
        its minute whatever this says; the ledger holds about two hours of such rows however many runs wrote it.
    type: int
    default: 30
  max_request_bytes:
    description:
      - Largest uncompressed request body, in bytes (4096 to 1000000).
    type: int
    default: 1000000
  detail_limit:
    description:
      - Largest number of series listed one by one in RV(series). Beyond it, only series that were not delivered
        are listed, up to this number, and the counts tell the rest.
    type: int
    default: 100
'''
