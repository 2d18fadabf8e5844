# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import stat

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._app_credentials import (
    DEFAULT_AUDIENCE,
    SecretFile,
    key_credential_thumbprints,
    new_key_credential,
    normalize_federated_credentials,
    parse_certificate_pem,
    plan_federated_credentials,
    plan_secret,
    secret_end_date,
    secret_view,
)
from ansible_collections.azmon.metrics.plugins.module_utils._errors import ValidationError

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
GH = 'https://token.actions.githubusercontent.com'


def fic(name, subject='repo:o/r:ref:refs/heads/main', issuer=GH, audiences=None, **kw):
    item = {'name': name, 'issuer': issuer, 'subject': subject, 'audiences': audiences}
    item.update(kw)
    return item


# --- federated credential validation ------------------------------------------------------------------------

def test_defaults_the_audience_and_keeps_description_only_when_given():
    out = normalize_federated_credentials([fic('gh-main'), fic('gh-prod', subject='repo:o/r:environment:prod',
                                                               description='prod')])
    assert out[0] == {'name': 'gh-main', 'issuer': GH, 'subject': 'repo:o/r:ref:refs/heads/main',
                      'audiences': [DEFAULT_AUDIENCE]}
    assert out[1]['description'] == 'prod'


@pytest.mark.parametrize('item, words', [
    (fic('ab'), 'name'),
    (fic('-lead'), 'name'),
    (fic('has space'), 'name'),
    (fic('x' * 121), 'name'),
    (fic('ok-name', issuer='http://insecure.example'), 'issuer'),
    (fic('ok-name', issuer='token.actions.githubusercontent.com'), 'issuer'),
    (fic('ok-name', subject=''), 'subject'),
    (fic('ok-name', subject='s' * 601), 'subject'),
    (fic('ok-name', audiences=['a', 'b']), 'exactly one'),
    (fic('ok-name', audiences=[]), 'exactly one'),
    (fic('ok-name', description='d' * 601), 'description'),
])
def test_rejects_what_entra_would_refuse(item, words):
    with pytest.raises(ValidationError) as info:
        normalize_federated_credentials([item])
    assert words in info.value.msg
    assert info.value.msg.startswith('federated_credentials[')


def test_rejects_duplicate_names_ignoring_case_and_duplicate_issuer_subject():
    with pytest.raises(ValidationError, match='listed twice'):
        normalize_federated_credentials([fic('Main-1'), fic('main-1', subject='other')])
    with pytest.raises(ValidationError, match='same issuer and subject'):
        normalize_federated_credentials([fic('one'), fic('two')])


def test_at_most_twenty():
    items = [fic('cred-%02d' % i, subject='s%d' % i) for i in range(21)]
    with pytest.raises(ValidationError, match='at most 20'):
        normalize_federated_credentials(items)
    assert len(normalize_federated_credentials(items[:20])) == 20


# --- federated credential plan --------------------------------------------------------------------------

def existing(name, subject='repo:o/r:ref:refs/heads/main', **kw):
    cred = {'id': 'id-' + name, 'name': name, 'issuer': GH, 'subject': subject, 'audiences': [DEFAULT_AUDIENCE],
            'description': None}
    cred.update(kw)
    return cred


def test_plan_equal_is_unchanged():
    wanted = normalize_federated_credentials([fic('gh-main')])
    plan = plan_federated_credentials([existing('GH-Main')], wanted)
    assert plan['create'] == [] and plan['update'] == [] and plan['delete'] == []
    assert len(plan['unchanged']) == 1


def test_plan_none_manages_nothing():
    plan = plan_federated_credentials([existing('a-1')], None, purge=True)
    assert plan == {'create': [], 'update': [], 'delete': [], 'unchanged': []}


def test_plan_update_lists_changed_fields_and_keeps_existing_name():
    wanted = normalize_federated_credentials([fic('gh-main', subject='repo:o/r:environment:prod', description='x')])
    plan = plan_federated_credentials([existing('GH-MAIN', description='old')], wanted)
    (current, body, fields), = plan['update']
    assert fields == ['subject', 'description']
    assert body['name'] == 'GH-MAIN'


def test_plan_missing_description_does_not_clear_it():
    wanted = normalize_federated_credentials([fic('gh-main')])
    plan = plan_federated_credentials([existing('gh-main', description='kept')], wanted)
    assert plan['update'] == []


def test_plan_audience_change_is_an_update():
    wanted = normalize_federated_credentials([fic('gh-main', audiences=['api://other'])])
    plan = plan_federated_credentials([existing('gh-main')], wanted)
    assert plan['update'][0][2] == ['audiences']


def test_plan_create_and_purge():
    wanted = normalize_federated_credentials([fic('new-one', subject='x')])
    plan = plan_federated_credentials([existing('old-one')], wanted)
    assert [b['name'] for b in plan['create']] == ['new-one'] and plan['delete'] == []
    plan = plan_federated_credentials([existing('old-one')], wanted, purge=True)
    assert [c['name'] for c in plan['delete']] == ['old-one']


def test_plan_counts_kept_credentials_against_the_limit():
    others = [existing('other-%02d' % i, subject='o%d' % i) for i in range(19)]
    wanted = normalize_federated_credentials([fic('a-1', subject='n1'), fic('a-2', subject='n2')])
    with pytest.raises(ValidationError, match='would have 21'):
        plan_federated_credentials(others, wanted)
    assert len(plan_federated_credentials(others, wanted, purge=True)['delete']) == 19


def test_plan_refuses_an_issuer_subject_pair_held_by_another_credential():
    wanted = normalize_federated_credentials([fic('renamed')])
    with pytest.raises(ValidationError, match="'old-name' already has issuer"):
        plan_federated_credentials([existing('old-name')], wanted)
    plan = plan_federated_credentials([existing('old-name')], wanted, purge=True)
    assert [c['name'] for c in plan['delete']] == ['old-name'] and len(plan['create']) == 1


# --- secrets --------------------------------------------------------------------------------------------

def pwd(name, key_id, end='2027-06-01T00:00:00Z'):
    return {'displayName': name, 'keyId': key_id, 'endDateTime': end, 'startDateTime': '2026-01-01T00:00:00Z',
            'hint': 'abc', 'secretText': None}


def test_secret_created_when_missing():
    plan = plan_secret([pwd('other', 'k1')], 'ansible', now=NOW)
    assert plan == {'create': True, 'reason': 'missing', 'current': None, 'remove': []}


def test_secret_kept_when_one_exists_ignoring_case():
    plan = plan_secret([pwd('Ansible', 'k1')], 'ansible', now=NOW)
    assert plan['create'] is False and plan['current']['keyId'] == 'k1'


def test_secret_recreated_when_only_expired_ones_exist():
    plan = plan_secret([pwd('ansible', 'k1', end='2026-01-01T00:00:00Z')], 'ansible', now=NOW)
    assert plan['create'] is True and plan['reason'] == 'expired' and plan['remove'] == []


def test_secret_rotation_removes_every_older_one_with_the_name():
    plan = plan_secret([pwd('ansible', 'k1'), pwd('ansible', 'k2', end='2020-01-01T00:00:00Z'), pwd('x', 'k3')],
                       'ansible', rotate=True, now=NOW)
    assert plan['create'] is True and plan['remove'] == ['k1', 'k2']


def test_secret_view_never_shows_text_or_hint():
    view = secret_view(dict(pwd('a', 'k'), secretText='TOPSECRET'))
    assert 'TOPSECRET' not in repr(view) and 'abc' not in repr(view)


def test_secret_end_date():
    assert secret_end_date(now=NOW) is None
    assert secret_end_date(lifetime_days=30, now=NOW) == '2026-12-31T12:00:00Z'
    assert secret_end_date(end_date_time='+2d', now=NOW) == '2026-12-03T12:00:00Z'
    assert secret_end_date(end_date_time='2027-01-31T00:00:00Z', now=NOW) == '2027-01-31T00:00:00Z'
    with pytest.raises(ValidationError, match='not in the future'):
        secret_end_date(end_date_time='2020-01-01T00:00:00Z', now=NOW)
    with pytest.raises(ValidationError, match='lifetime_days'):
        secret_end_date(lifetime_days=0, now=NOW)
    with pytest.raises(ValidationError, match='end_date_time'):
        secret_end_date(end_date_time='next tuesday', now=NOW)


def test_secret_file_is_atomic_and_private(tmp_path):
    target = tmp_path / 'publisher.secret'
    target.write_text('old')
    os.chmod(target, 0o644)
    writer = SecretFile(str(target))
    writer.prepare()
    assert target.read_text() == 'old'
    writer.commit('s3cr3t')
    assert target.read_text() == 's3cr3t'
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ['publisher.secret']


def test_secret_file_checks_the_directory_first(tmp_path):
    with pytest.raises(ValidationError, match='does not exist'):
        SecretFile(str(tmp_path / 'missing' / 'f')).prepare()
    with pytest.raises(ValidationError, match='is a directory'):
        SecretFile(str(tmp_path)).prepare()
    writer = SecretFile(str(tmp_path / 'f'))
    writer.prepare()
    writer.abort()
    assert list(tmp_path.iterdir()) == []


# --- certificates ---------------------------------------------------------------------------------------

def make_cert(days=365):
    x509 = pytest.importorskip('cryptography.x509', reason='cryptography builds the test certificate')
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'publisher')])
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days)).sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert, pem, key_pem


def test_parse_certificate_thumbprint_and_validity():
    cert, pem, key_pem = make_cert()
    from cryptography.hazmat.primitives import hashes
    parsed = parse_certificate_pem(key_pem + pem)
    assert parsed['thumbprint'] == cert.fingerprint(hashes.SHA1()).hex().upper()
    assert parsed['not_before'] == datetime.datetime(2026, 1, 1, tzinfo=UTC)
    assert parsed['not_after'] == datetime.datetime(2027, 1, 1, tzinfo=UTC)
    body = new_key_credential(parsed, 'cert')
    assert 'PRIVATE' not in repr(body)
    assert base64.b64decode(body['key']) == parsed['der']
    assert body['type'] == 'AsymmetricX509Cert' and body['usage'] == 'Verify'
    assert body['endDateTime'] == '2027-01-01T00:00:00Z'


def test_parse_certificate_rejects_bad_input():
    dummy, pem, key_pem = make_cert()
    with pytest.raises(ValidationError, match='no "-----BEGIN CERTIFICATE-----"'):
        parse_certificate_pem(key_pem, 'certificates[0]')
    with pytest.raises(ValidationError, match='found 2 certificates'):
        parse_certificate_pem(pem + pem)
    garbage = '-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----' % base64.b64encode(b'\x30\x03abc').decode()
    with pytest.raises(ValidationError, match='not an X.509 certificate'):
        parse_certificate_pem(garbage)


def test_key_credential_thumbprints_in_every_shape_graph_uses():
    dummy, pem, dummy_key = make_cert()
    parsed = parse_certificate_pem(pem)
    thumb = parsed['thumbprint']
    raw = bytes.fromhex(thumb)
    assert thumb in key_credential_thumbprints({'customKeyIdentifier': base64.b64encode(raw).decode()})
    assert thumb in key_credential_thumbprints({'customKeyIdentifier': thumb.lower()})
    assert thumb in key_credential_thumbprints({'customKeyIdentifier': base64.b64encode(thumb.encode()).decode()})
    assert thumb in key_credential_thumbprints({'customKeyIdentifier': None,
                                                'key': base64.b64encode(parsed['der']).decode()})
    assert key_credential_thumbprints({'customKeyIdentifier': None, 'key': None}) == set()
    assert hashlib.sha1(parsed['der']).hexdigest().upper() == thumb
