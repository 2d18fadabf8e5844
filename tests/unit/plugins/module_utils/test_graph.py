# -*- coding: utf-8 -*-
# Copyright (c) azmon.metrics contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import random
from urllib.parse import unquote

import pytest

from ansible_collections.azmon.metrics.plugins.module_utils._errors import ServiceError, ValidationError
from ansible_collections.azmon.metrics.plugins.module_utils._graph import (
    GraphClient,
    filter_query,
    key_segment,
    odata_string,
)
from ansible_collections.azmon.metrics.plugins.module_utils._http import HttpClient, RetryPolicy, TokenSource
from ansible_collections.azmon.metrics.plugins.module_utils._wait import Wait

APP_ID = '11111111-2222-3333-4444-555555555555'
OBJ_ID = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'


class StaticToken(TokenSource):
    def __init__(self):
        self.refreshed = 0

    def token(self):
        return 'graph-token-%d' % self.refreshed

    def refresh(self):
        self.refreshed += 1


def graph(server, **kw):
    sleeps = []
    http = HttpClient(retry=RetryPolicy(max_attempts=3, sleep=sleeps.append, rng=random.Random(0)), timeout=5)
    now = [0.0]

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    client = GraphClient(http, server.url + '/', StaticToken(), wait=Wait(sleep=sleep, clock=lambda: now[0]), **kw)
    client.test_sleeps = sleeps
    return client


def decoded_query(request):
    return unquote(request['path'].split('?', 1)[1])


# --- quoting ------------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, literal', [
    ('plain', "'plain'"),
    ("O'Brien", "'O''Brien'"),
    ("''", "''''''"),
    ('', "''"),
])
def test_odata_string_doubles_quotes(value, literal):
    assert odata_string(value) == literal


def test_filter_query_encodes_everything_that_could_break_the_url():
    query = filter_query("displayName eq %s" % odata_string("a&b=c #d/e?f+g'h"))
    assert query.startswith('$filter=')
    encoded = query[len('$filter='):]
    for char in '&=#/?+ ':
        assert char not in encoded
    assert unquote(encoded) == "displayName eq 'a&b=c #d/e?f+g''h'"


def test_key_segment_cannot_escape_the_path():
    segment = key_segment('uniqueName', "x')/../../users/y?z")
    assert '/' not in segment and '?' not in segment
    assert unquote(segment) == "(uniqueName='x'')/../../users/y?z')"


# --- the three calls other modules rely on --------------------------------------------------------------

def test_service_principals_by_app_id_request_shape(scripted_server):
    scripted_server.script = [(200, {}, {'value': [{'id': OBJ_ID, 'appId': APP_ID}]})]
    found = graph(scripted_server).service_principals_by_app_id(APP_ID.upper())
    assert found == [{'id': OBJ_ID, 'appId': APP_ID}]
    req = scripted_server.requests[0]
    assert req['method'] == 'GET'
    assert req['path'].startswith('/v1.0/servicePrincipals?$filter=')
    assert decoded_query(req) == "$filter=appId eq '%s'" % APP_ID
    assert req['headers']['Authorization'] == 'Bearer graph-token-0'


@pytest.mark.parametrize('bad', ["x' or 1 eq 1", '../applications', '', '1111111-2222-3333-4444-555555555555'])
def test_service_principals_by_app_id_rejects_non_guids_before_sending(scripted_server, bad):
    with pytest.raises(ValidationError) as info:
        graph(scripted_server).service_principals_by_app_id(bad)
    assert 'app_id' in info.value.msg
    assert scripted_server.requests == []


def test_service_principals_by_display_name_quotes_and_follows_next_link(scripted_server):
    next_link = scripted_server.url + "/v1.0/servicePrincipals?$filter=x&$skiptoken=abc"
    scripted_server.script = [
        (200, {}, {'value': [{'id': '1'}], '@odata.nextLink': next_link}),
        (200, {}, {'value': [{'id': '2'}]}),
    ]
    found = graph(scripted_server).service_principals_by_display_name("it's mine & yours")
    assert [sp['id'] for sp in found] == ['1', '2']
    first, second = scripted_server.requests
    assert decoded_query(first) == "$filter=displayName eq 'it''s mine & yours'"
    assert '&' not in first['path'].split('?', 1)[1]
    assert second['path'] == '/v1.0/servicePrincipals?$filter=x&$skiptoken=abc'
    assert second['headers']['Authorization'] == 'Bearer graph-token-0'


def test_next_link_to_another_host_is_refused(scripted_server):
    scripted_server.script = [(200, {}, {'value': [], '@odata.nextLink': 'https://evil.example/v1.0/x'})]
    with pytest.raises(ServiceError) as info:
        graph(scripted_server).service_principals_by_display_name('x')
    assert 'evil.example' in info.value.msg
    assert len(scripted_server.requests) == 1


def test_a_repeated_next_link_is_refused(scripted_server):
    link = scripted_server.url + "/v1.0/servicePrincipals?$filter=x&$skiptoken=same"
    scripted_server.script = [(200, {}, {'value': [{'id': '1'}], '@odata.nextLink': link})] * 3
    with pytest.raises(ServiceError) as info:
        graph(scripted_server).service_principals_by_display_name('x')
    assert 'repeats the @odata.nextLink' in info.value.msg
    assert len(scripted_server.requests) == 2


def test_application_by_object_id_rejects_a_path(scripted_server):
    with pytest.raises(ValidationError):
        graph(scripted_server).application('../servicePrincipals/%s' % OBJ_ID)
    assert scripted_server.requests == []


def test_errors_keep_graph_code_and_request_id(scripted_server):
    scripted_server.script = [(403, {'request-id': 'req-1'},
                               {'error': {'code': 'Authorization_RequestDenied', 'message': 'Insufficient privileges'}})]
    with pytest.raises(ServiceError) as info:
        graph(scripted_server).service_principals_by_display_name('x')
    assert info.value.status == 403
    assert info.value.code == 'Authorization_RequestDenied'
    assert info.value.request_id == 'req-1'


# --- applications and the rest of the client ---------------------------------------------------------------

def body_of(request):
    return json.loads(request['body']) if request['body'] else None


def test_application_lookups_use_quoted_alternate_keys(scripted_server):
    scripted_server.script = [(200, {}, {'id': OBJ_ID}), (404, {}, {'error': {'code': 'Request_ResourceNotFound'}}),
                              (200, {}, {'value': []})]
    client = graph(scripted_server)
    assert client.application_by_app_id(APP_ID)['id'] == OBJ_ID
    assert client.application_by_unique_name("it's") is None
    assert client.applications_by_display_name('a b') == []
    paths = [r['path'] for r in scripted_server.requests]
    assert paths[0] == "/v1.0/applications(appId='%s')" % APP_ID
    assert unquote(paths[1]) == "/v1.0/applications(uniqueName='it''s')"
    assert decoded_query(scripted_server.requests[2]) == "$filter=displayName eq 'a b'"


def test_create_application_with_unique_name_is_an_upsert(scripted_server):
    scripted_server.script = [(201, {}, {'id': OBJ_ID, 'appId': APP_ID, 'uniqueName': 'u-1'})]
    app, created = graph(scripted_server).create_application('Publisher', 'u-1')
    assert app['appId'] == APP_ID and created is True
    req, = scripted_server.requests
    assert req['method'] == 'PATCH'
    assert req['path'] == "/v1.0/applications(uniqueName='u-1')"
    assert req['headers']['Prefer'] == 'create-if-missing'
    assert body_of(req) == {'displayName': 'Publisher'}


def test_create_application_upsert_204_reads_the_existing_one_back(scripted_server):
    scripted_server.script = [(204, {}, b''), (200, {}, {'id': OBJ_ID, 'appId': APP_ID})]
    app, created = graph(scripted_server).create_application('Publisher', 'u-1')
    assert app['id'] == OBJ_ID and created is False
    assert [r['method'] for r in scripted_server.requests] == ['PATCH', 'GET']


def test_create_application_without_unique_name_posts_once_and_never_repeats(scripted_server):
    scripted_server.script = [(500, {}, {'error': {'code': 'InternalServerError'}})]
    with pytest.raises(ServiceError) as info:
        graph(scripted_server).create_application('Publisher')
    assert info.value.details.get('ambiguous') is True
    assert len(scripted_server.requests) == 1
    assert scripted_server.requests[0]['method'] == 'POST' and scripted_server.requests[0]['path'] == '/v1.0/applications'


def test_ensure_service_principal_waits_for_replication(scripted_server):
    not_yet = (404, {}, {'error': {'code': 'Request_ResourceNotFound', 'message': 'app not found'}})
    scripted_server.script = [not_yet, not_yet, (201, {}, {'id': OBJ_ID, 'appId': APP_ID})]
    client = graph(scripted_server)
    sp = client.ensure_service_principal(APP_ID)
    assert sp['id'] == OBJ_ID
    assert client.wait.retries == 2
    assert client.test_sleeps == [1.0, 2.0]
    req = scripted_server.requests[-1]
    assert req['method'] == 'PATCH' and req['path'] == "/v1.0/servicePrincipals(appId='%s')" % APP_ID
    assert req['headers']['Prefer'] == 'create-if-missing'


def test_replication_wait_is_bounded(scripted_server):
    not_yet = (404, {}, {'error': {'code': 'Request_ResourceNotFound', 'message': 'app not found'}})
    scripted_server.script = [not_yet] * 10
    client = graph(scripted_server, consistency_wait=5)
    with pytest.raises(ServiceError) as info:
        client.create_federated_credential(OBJ_ID, {'name': 'x'})
    assert 'replication' in info.value.msg
    assert sum(client.test_sleeps) <= 5
    assert len(scripted_server.requests) == 3  # waits of 1 and 2 seconds, then 4 would pass the bound


def test_federated_credential_calls(scripted_server):
    fic_id = '99999999-8888-7777-6666-555555555555'
    scripted_server.script = [(200, {}, {'value': [{'id': fic_id, 'name': 'a'}]}), (201, {}, {'id': fic_id}),
                              (204, {}, b''), (204, {}, b''), (404, {}, {})]
    client = graph(scripted_server)
    assert client.federated_credentials(OBJ_ID)[0]['name'] == 'a'
    client.create_federated_credential(OBJ_ID, {'name': 'a'})
    client.update_federated_credential(OBJ_ID, fic_id, {'subject': 's'})
    client.delete_federated_credential(OBJ_ID, fic_id)
    client.delete_federated_credential(OBJ_ID, fic_id)  # already gone: fine
    base = '/v1.0/applications/%s/federatedIdentityCredentials' % OBJ_ID
    assert [(r['method'], r['path']) for r in scripted_server.requests] == [
        ('GET', base), ('POST', base), ('PATCH', base + '/' + fic_id), ('DELETE', base + '/' + fic_id),
        ('DELETE', base + '/' + fic_id)]
    with pytest.raises(ValidationError):
        client.update_federated_credential(OBJ_ID, 'a/../b', {})


def test_add_password_is_not_repeated_after_an_unclear_failure(scripted_server):
    scripted_server.script = [(502, {}, b'bad gateway')]
    with pytest.raises(ServiceError):
        graph(scripted_server).add_password(OBJ_ID, 'ansible', '2027-01-01T00:00:00Z')
    assert len(scripted_server.requests) == 1
    assert body_of(scripted_server.requests[0]) == {
        'passwordCredential': {'displayName': 'ansible', 'endDateTime': '2027-01-01T00:00:00Z'}}
    assert scripted_server.requests[0]['path'] == '/v1.0/applications/%s/addPassword' % OBJ_ID


def test_remove_password_and_key_credentials(scripted_server):
    key_id = '12121212-3434-5656-7878-909090909090'
    scripted_server.script = [(204, {}, b''), (200, {}, {'id': OBJ_ID, 'keyCredentials': [{'keyId': key_id}]}),
                              (204, {}, b'')]
    client = graph(scripted_server)
    client.remove_password(OBJ_ID, key_id)
    assert client.key_credentials(OBJ_ID) == [{'keyId': key_id}]
    client.set_key_credentials(OBJ_ID, [{'keyId': key_id}])
    first, second, third = scripted_server.requests
    assert body_of(first) == {'keyId': key_id}
    assert decoded_query(second) == '$select=id,keyCredentials'
    assert third['method'] == 'PATCH' and body_of(third) == {'keyCredentials': [{'keyId': key_id}]}


def test_delete_application(scripted_server):
    scripted_server.script = [(204, {}, b''), (404, {}, {})]
    client = graph(scripted_server)
    assert client.delete_application(OBJ_ID) is True
    assert client.delete_application(OBJ_ID) is False
    assert scripted_server.requests[0]['method'] == 'DELETE'
    assert scripted_server.requests[0]['path'] == '/v1.0/applications/%s' % OBJ_ID


def test_401_gets_one_fresh_token(scripted_server):
    scripted_server.script = [(401, {}, {'error': {'code': 'InvalidAuthenticationToken'}}), (200, {}, {'value': []})]
    client = graph(scripted_server)
    client.applications_by_display_name('x')
    assert [r['headers']['Authorization'] for r in scripted_server.requests] == ['Bearer graph-token-0',
                                                                                 'Bearer graph-token-1']


def test_service_principal_for_an_application_not_replicated_yet_is_retried(scripted_server):
    not_valid = (400, {}, {'error': {'code': 'Request_BadRequest', 'message': "The appId '%s' of the service principal does"
                                     " not reference a valid application object." % APP_ID}})
    other_400 = (400, {}, {'error': {'code': 'Request_BadRequest', 'message': 'Property x is invalid'}})
    scripted_server.script = [not_valid, (201, {}, {'id': OBJ_ID, 'appId': APP_ID}), other_400]
    client = graph(scripted_server)
    assert client.ensure_service_principal(APP_ID)['id'] == OBJ_ID
    assert client.wait.retries == 1
    with pytest.raises(ServiceError) as info:
        client.ensure_service_principal(APP_ID)
    assert info.value.status == 400 and client.wait.retries == 1


def test_paths_are_percent_encoded_and_key_segments_kept(scripted_server):
    client = graph(scripted_server)
    assert client.url('applications/\u00e9') == scripted_server.url + '/v1.0/applications/%C3%A9'
    segment = "applications(uniqueName='a%27%27b')"
    assert client.url(segment) == scripted_server.url + '/v1.0/' + segment
