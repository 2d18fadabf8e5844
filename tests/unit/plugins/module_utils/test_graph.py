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

    client = GraphClient(http, server.url + '/', StaticToken(), sleep=sleep, clock=lambda: now[0], **kw)
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


def test_service_principal_by_object_id(scripted_server):
    scripted_server.script = [(200, {}, {'id': OBJ_ID, 'appId': APP_ID}),
                              (404, {}, {'error': {'code': 'Request_ResourceNotFound', 'message': 'gone'}})]
    client = graph(scripted_server)
    assert client.service_principal(OBJ_ID)['appId'] == APP_ID
    assert client.service_principal(OBJ_ID) is None
    assert [r['path'] for r in scripted_server.requests] == ['/v1.0/servicePrincipals/%s' % OBJ_ID] * 2


def test_service_principal_rejects_a_path(scripted_server):
    with pytest.raises(ValidationError):
        graph(scripted_server).service_principal('../applications/%s' % OBJ_ID)
    assert scripted_server.requests == []


def test_errors_keep_graph_code_and_request_id(scripted_server):
    scripted_server.script = [(403, {'request-id': 'req-1'},
                               {'error': {'code': 'Authorization_RequestDenied', 'message': 'Insufficient privileges'}})]
    with pytest.raises(ServiceError) as info:
        graph(scripted_server).service_principals_by_display_name('x')
    assert info.value.status == 403
    assert info.value.code == 'Authorization_RequestDenied'
    assert info.value.request_id == 'req-1'
