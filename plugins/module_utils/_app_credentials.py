# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials of an application registration: validation, idempotence decisions, PEM certificates, secret files.

Pure functions over the dicts Microsoft Graph returns; nothing here sends a
request or knows about Ansible.  The decisions are made here so that they can
be tested one by one:

- federated credentials are matched by name (case-insensitive) and created,
  updated or (with purge) deleted;
- a client secret is created only when no unexpired one with the same
  display name exists, or on rotation;
- a certificate is present when a keyCredential with its SHA-1 thumbprint
  exists.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import os
import re
import tempfile

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._time import TimeFormatError, format_utc, parse_iso, parse_time

UTC = datetime.timezone.utc
DEFAULT_AUDIENCE = 'api://AzureADTokenExchange'
MAX_FEDERATED_CREDENTIALS = 20
FIC_NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$')
MAX_FIC_TEXT = 600


# ------------------------------------------------------------------------------------ federated credentials

def normalize_federated_credentials(items, option='federated_credentials'):
    """Check the wanted federated credentials; return them as Graph bodies (name, issuer, subject, audiences[, description])."""
    items = items or []
    if len(items) > MAX_FEDERATED_CREDENTIALS:
        raise ValidationError('%s: at most %d federated credentials per application, got %d'
                              % (option, MAX_FEDERATED_CREDENTIALS, len(items)), option=option)
    result = []
    names = {}
    pairs = {}
    for index, item in enumerate(items):
        where = '%s[%d]' % (option, index)
        name = item.get('name')
        if not isinstance(name, str) or not FIC_NAME_RE.match(name):
            raise ValidationError('%s.name %r: use 3 to 120 letters, digits, "-" or "_", starting with a letter or digit'
                                  % (where, name), option=option)
        where = '%s[name=%s]' % (option, name)
        issuer = item.get('issuer')
        if not isinstance(issuer, str) or not re.match(r'^https://[^/\s?#]+(/\S*)?$', issuer) or len(issuer) > MAX_FIC_TEXT:
            raise ValidationError('%s.issuer must be an https:// URL of at most %d characters, got %r'
                                  % (where, MAX_FIC_TEXT, issuer), option=option)
        subject = item.get('subject')
        if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_FIC_TEXT:
            raise ValidationError('%s.subject must be 1 to %d characters (for GitHub Actions e.g. repo:ORG/REPO:ref:refs/heads/main)'
                                  % (where, MAX_FIC_TEXT), option=option)
        audiences = item.get('audiences')
        if audiences is None:
            audiences = [DEFAULT_AUDIENCE]
        if (not isinstance(audiences, list) or len(audiences) != 1 or not isinstance(audiences[0], str)
                or not audiences[0] or len(audiences[0]) > MAX_FIC_TEXT):
            raise ValidationError('%s.audiences must hold exactly one audience of 1 to %d characters (Microsoft Entra ID'
                                  ' accepts one; the default is %s)' % (where, MAX_FIC_TEXT, DEFAULT_AUDIENCE), option=option)
        description = item.get('description')
        if description is not None and len(description) > MAX_FIC_TEXT:
            raise ValidationError('%s.description must be at most %d characters' % (where, MAX_FIC_TEXT), option=option)
        if name.lower() in names:
            raise ValidationError('%s: the name %r is listed twice' % (option, name), option=option)
        names[name.lower()] = True
        pair = (issuer, subject)
        if pair in pairs:
            raise ValidationError('%s: %s and %s have the same issuer and subject; Microsoft Entra ID allows each pair once'
                                  % (option, pairs[pair], name), option=option)
        pairs[pair] = name
        body = {'name': name, 'issuer': issuer, 'subject': subject, 'audiences': list(audiences)}
        if description is not None:
            body['description'] = description
        result.append(body)
    return result


def federated_view(cred):
    """What the result and the diff show of a federated credential."""
    return {'name': cred.get('name'), 'issuer': cred.get('issuer'), 'subject': cred.get('subject'),
            'audiences': list(cred.get('audiences') or []), 'description': cred.get('description')}


def federated_differences(existing, wanted):
    """The fields of ``wanted`` that differ from ``existing`` (description only when wanted names one)."""
    changed = []
    for field in ('issuer', 'subject'):
        if existing.get(field) != wanted[field]:
            changed.append(field)
    if sorted(existing.get('audiences') or []) != sorted(wanted['audiences']):
        changed.append('audiences')
    if 'description' in wanted and (existing.get('description') or '') != (wanted['description'] or ''):
        changed.append('description')
    return changed


def plan_federated_credentials(existing, wanted, purge=False, option='federated_credentials'):
    """Decide what to create, update and delete.

    Returns a dict with ``create`` (bodies), ``update`` (``(existing, body, fields)``),
    ``delete`` (existing credentials, only with ``purge``) and ``unchanged``.
    ``wanted`` is ``None`` when the user did not name any (nothing is managed then).
    Raises ``ValidationError`` when the result would break a Graph rule (more
    than 20, or an issuer/subject pair held by a credential that stays).
    """
    plan = {'create': [], 'update': [], 'delete': [], 'unchanged': []}
    if wanted is None:
        return plan
    by_name = {}
    for cred in existing:
        by_name.setdefault((cred.get('name') or '').lower(), cred)
    wanted_names = set()
    for body in wanted:
        key = body['name'].lower()
        wanted_names.add(key)
        current = by_name.get(key)
        if current is None:
            plan['create'].append(body)
            continue
        fields = federated_differences(current, body)
        if fields:
            plan['update'].append((current, dict(body, name=current.get('name')), fields))
        else:
            plan['unchanged'].append(current)
    others = [c for c in existing if (c.get('name') or '').lower() not in wanted_names]
    if purge:
        plan['delete'] = others
        kept = []
    else:
        kept = others
    total = len(kept) + len(wanted)
    if total > MAX_FEDERATED_CREDENTIALS:
        raise ValidationError(
            '%s: the application would have %d federated credentials (%d listed plus %d others it already has: %s);'
            ' at most %d are allowed. Remove some, or set purge_federated_credentials=true.'
            % (option, total, len(wanted), len(kept), ', '.join(sorted(c.get('name') or '?' for c in kept)),
               MAX_FEDERATED_CREDENTIALS), option=option)
    held = {(c.get('issuer'), c.get('subject')): c.get('name') for c in kept}
    for body in wanted:
        other = held.get((body['issuer'], body['subject']))
        if other is not None:
            raise ValidationError(
                '%s[name=%s]: the existing federated credential %r already has issuer %s and subject %s; an'
                ' application may hold each pair once. Rename the entry to %r, or set purge_federated_credentials=true.'
                % (option, body['name'], other, body['issuer'], body['subject'], other), option=option)
    return plan


# ------------------------------------------------------------------------------------------- secrets

def secret_end_date(end_date_time=None, lifetime_days=None, now=None):
    """The ``endDateTime`` to ask for, as ISO 8601 UTC, or ``None`` for Graph's default; must lie in the future."""
    now = now or datetime.datetime.now(UTC)
    if end_date_time is None and lifetime_days is None:
        return None
    if lifetime_days is not None:
        if lifetime_days < 1:
            raise ValidationError('client_secret.lifetime_days must be 1 or more, got %r' % lifetime_days,
                                  option='client_secret.lifetime_days')
        when = now + datetime.timedelta(days=lifetime_days)
    else:
        try:
            when = parse_time(end_date_time, now=now, allow_relative=True)
        except TimeFormatError as exc:
            raise ValidationError('client_secret.end_date_time: %s, or a relative time such as +180d' % exc,
                                  option='client_secret.end_date_time') from None
    if when <= now:
        raise ValidationError('client_secret.end_date_time %s is not in the future' % format_utc(when),
                              option='client_secret.end_date_time')
    return format_utc(when)


def _expired(cred, now):
    end = cred.get('endDateTime')
    if not end:
        return False
    try:
        return parse_iso(end) <= now
    except TimeFormatError:
        return False


def plan_secret(existing, display_name, rotate=False, now=None):
    """Decide about a client secret named ``display_name``.

    Returns a dict: ``create`` (bool), ``reason``, ``current`` (the valid
    existing credential kept, or ``None``), ``remove`` (keyIds to remove after
    a rotation: every other secret with that display name).
    Display names compare ignoring case, so a secret is never doubled by a
    change of case.
    """
    now = now or datetime.datetime.now(UTC)
    same = [c for c in existing or [] if (c.get('displayName') or '').lower() == display_name.lower()]
    valid = [c for c in same if not _expired(c, now)]
    if rotate:
        return {'create': True, 'reason': 'rotate', 'current': None, 'remove': [c.get('keyId') for c in same]}
    if valid:
        latest = max(valid, key=lambda c: c.get('endDateTime') or '')
        return {'create': False, 'reason': 'exists', 'current': latest, 'remove': []}
    return {'create': True, 'reason': 'expired' if same else 'missing', 'current': None, 'remove': []}


def secret_view(cred):
    """What the result and the diff show of a client secret: never its text, nor its hint."""
    if not cred:
        return None
    return {'display_name': cred.get('displayName'), 'key_id': cred.get('keyId'),
            'start_date_time': cred.get('startDateTime'), 'end_date_time': cred.get('endDateTime')}


class SecretFile:
    """Writes a new secret to a file atomically, mode 0600.

    ``prepare()`` runs before the secret is created: it checks the directory
    and reserves a temporary file there (created 0600 by ``mkstemp``), so a
    secret is never created that cannot be stored.  ``commit(text)`` writes,
    syncs and renames over the target; ``abort()`` removes the temporary file.
    """

    def __init__(self, path):
        self.path = path
        self.tmp = None

    def check(self):
        """What ``prepare`` checks, without creating anything (check mode)."""
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise ValidationError('client_secret.secret_file: the directory %s does not exist' % directory,
                                  option='client_secret.secret_file')
        if os.path.isdir(self.path):
            raise ValidationError('client_secret.secret_file: %s is a directory' % self.path, option='client_secret.secret_file')
        if not os.access(directory, os.W_OK):
            raise ValidationError('client_secret.secret_file: cannot write in %s' % directory, option='client_secret.secret_file')
        return directory

    def prepare(self):
        directory = self.check()
        try:
            fd, self.tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(self.path), suffix='.tmp', dir=directory)
        except OSError as exc:
            raise ValidationError('client_secret.secret_file: cannot write in %s: %s' % (directory, exc.strerror),
                                  option='client_secret.secret_file') from None
        os.close(fd)

    def commit(self, text):
        fd = os.open(self.tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, text.encode('utf-8'))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self.tmp, self.path)
        self.tmp = None

    def abort(self):
        if self.tmp:
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
            self.tmp = None


# ---------------------------------------------------------------------------------------- certificates

_PEM_CERT = re.compile(r'-----BEGIN CERTIFICATE-----\s*(?P<body>[A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----')


def parse_certificate_pem(text, where='certificates'):
    """Read one PEM certificate (a private key beside it is ignored, never sent).

    Returns ``der`` (bytes), ``thumbprint`` (SHA-1, upper-case hex, as the
    portal shows it), ``not_before`` and ``not_after`` (aware datetimes).
    """
    if not isinstance(text, str):
        raise ValidationError('%s: expected PEM text' % where, option=where)
    blocks = _PEM_CERT.findall(text)
    if not blocks:
        raise ValidationError('%s: no "-----BEGIN CERTIFICATE-----" block found; give the PEM public certificate'
                              % where, option=where)
    if len(blocks) > 1:
        raise ValidationError('%s: found %d certificates; give one per entry' % (where, len(blocks)), option=where)
    try:
        der = base64.b64decode(re.sub(r'\s+', '', blocks[0]), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError('%s: the certificate block is not valid base64' % where, option=where) from None
    try:
        not_before, not_after = _validity(der)
    except (IndexError, ValueError) as exc:
        raise ValidationError('%s: not an X.509 certificate (%s)' % (where, exc), option=where) from None
    return {'der': der, 'thumbprint': hashlib.sha1(der).hexdigest().upper(),  # nosec B324 - the certificate thumbprint
            'not_before': not_before, 'not_after': not_after}


def _tlv(data, pos):
    """One DER element at ``pos``: (tag, value start, value end)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise ValueError('unsupported DER length')
        length = int.from_bytes(data[pos:pos + count], 'big')
        pos += count
    end = pos + length
    if end > len(data):
        raise ValueError('truncated DER')
    return tag, pos, end


def _validity(der):
    tag, start, end = _tlv(der, 0)              # Certificate
    if tag != 0x30 or end != len(der):
        raise ValueError('not a DER SEQUENCE')
    tag, pos, dummy = _tlv(der, start)          # tbsCertificate
    if tag != 0x30:
        raise ValueError('no tbsCertificate')
    tag, dummy, nxt = _tlv(der, pos)
    if tag == 0xA0:                             # [0] version
        pos = nxt
        tag, dummy, nxt = _tlv(der, pos)
    for dummy in range(3):                          # serialNumber, signature, issuer
        pos = nxt
        tag, dummy, nxt = _tlv(der, pos)
    if tag != 0x30:
        raise ValueError('no validity')
    tag, vstart, dummy = _tlv(der, pos)
    times = []
    p = vstart
    for dummy in range(2):
        ttag, tstart, tend = _tlv(der, p)
        times.append(_asn1_time(ttag, der[tstart:tend].decode('ascii')))
        p = tend
    return times[0], times[1]


def _asn1_time(tag, text):
    if tag == 0x17:      # UTCTime YYMMDDHHMMSSZ
        when = datetime.datetime.strptime(text, '%y%m%d%H%M%SZ')
    elif tag == 0x18:    # GeneralizedTime YYYYMMDDHHMMSSZ
        when = datetime.datetime.strptime(text, '%Y%m%d%H%M%SZ')
    else:
        raise ValueError('unexpected time tag %#x' % tag)
    return when.replace(tzinfo=UTC)


def key_credential_thumbprints(cred):
    """Every SHA-1 thumbprint (upper-case hex) a Graph keyCredential can be recognised by.

    Graph shows ``customKeyIdentifier`` as base64 of the thumbprint bytes; some
    tools store the hex text instead; ``key`` (returned on ``$select``) is the
    DER certificate itself.
    """
    found = set()
    ident = cred.get('customKeyIdentifier')
    if isinstance(ident, str) and ident:
        if re.match(r'^[0-9A-Fa-f]{40}$', ident):
            found.add(ident.upper())
        try:
            raw = base64.b64decode(ident + '=' * (-len(ident) % 4), validate=True)
        except (binascii.Error, ValueError):
            raw = b''
        if len(raw) == 20:
            found.add(raw.hex().upper())
        elif re.match(rb'^[0-9A-Fa-f]{40}$', raw):
            found.add(raw.decode('ascii').upper())
    key = cred.get('key')
    if isinstance(key, str) and key:
        try:
            found.add(hashlib.sha1(base64.b64decode(key, validate=True)).hexdigest().upper())  # nosec B324
        except (binascii.Error, ValueError):
            pass
    return found


def new_key_credential(cert, display_name):
    """The keyCredential Graph wants for a PEM certificate we parsed."""
    return {
        'type': 'AsymmetricX509Cert', 'usage': 'Verify', 'key': base64.b64encode(cert['der']).decode('ascii'),
        'displayName': display_name,
        'customKeyIdentifier': base64.b64encode(bytes.fromhex(cert['thumbprint'])).decode('ascii'),
        'startDateTime': format_utc(cert['not_before']), 'endDateTime': format_utc(cert['not_after']),
    }


def certificate_view(cred, thumbprint=None):
    """What the result and the diff show of a certificate credential (never the key itself)."""
    thumbs = sorted(key_credential_thumbprints(cred))
    return {'thumbprint': thumbprint or (thumbs[0] if thumbs else None), 'display_name': cred.get('displayName'),
            'key_id': cred.get('keyId'), 'start_date_time': cred.get('startDateTime'),
            'end_date_time': cred.get('endDateTime')}
