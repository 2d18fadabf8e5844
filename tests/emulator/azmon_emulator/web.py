"""HTTP plumbing shared by every service: request/response objects, the TLS threading server, the handler."""

import json
import socket
import ssl
import struct
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import jwt
from .faults import SERVICE_ACTIONS

DRAIN_LIMIT = 16 * 1048576
LOGGED_HEADERS = ("content-type", "content-length", "content-encoding", "transfer-encoding", "accept", "user-agent",
                  "x-ms-client-request-id", "x-request-id", "client-request-id", "x-ms-principal-id", "x-ms-client-session-id",
                  "prefer", "metadata", "host", "x-prometheus-remote-write-version")
LOGGED_BODIES = ("arm", "graph")   # services whose JSON request bodies the log keeps (as "json"): none carries a secret


class HttpError(Exception):
    """A refusal: HTTP status, the service's error code and message. ``Service.handle`` answers it as the service's error."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message):
    return HttpError(400, "BadRequest", message)


class Request:
    def __init__(self, handler, service):
        self.handler = handler
        self.service = service
        self.method = handler.command
        self.raw_path, _sep, self.query_string = handler.path.partition("?")
        self.path = urllib.parse.unquote(self.raw_path)
        self.query_multi = urllib.parse.parse_qs(self.query_string, keep_blank_values=True)
        self.query = {k: v[0] for k, v in self.query_multi.items()}
        self.headers = handler.headers
        self.request_id = str(uuid.uuid4())
        self.claims = None
        self._body = None
        self.body_read = False
        self.fault = None   # a fault the service applies itself (faults.SERVICE_ACTIONS)
        # A client that sent "Expect: 100-continue" gets "100 Continue" only when a service reads the body, as
        # Kestrel and IIS do: an answer given without reading it (a fault, 401, 429) tells the client the body
        # was never taken.
        self.expect_continue = handler.expect_continue
        handler.expect_continue = False

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def query_ci(self, name, default=None):
        """Query parameter by case-insensitive name (ARM treats names case-insensitively)."""
        for key, value in self.query.items():
            if key.lower() == name.lower():
                return value
        return default

    def content_length(self):
        """Declared Content-Length as an int, None when absent; raises ValueError when malformed."""
        value = self.headers.get("Content-Length")
        if value is None:
            return None
        value = value.strip()
        if not value.isdigit():
            raise ValueError("bad Content-Length %r" % value)
        return int(value)

    def is_chunked(self):
        return "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()

    def body(self, limit=None):
        """Read the request body once (Content-Length or chunked). ``limit`` bounds a chunked read."""
        if self.body_read:
            return self._body
        self.body_read = True
        if self.expect_continue:
            self.expect_continue = False
            self.handler.send_response_only(100)
            self.handler.end_headers()
        rfile = self.handler.rfile
        if self.is_chunked():
            parts, total = [], 0
            while True:
                line = rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(rfile.read(size))
                rfile.readline(65537)
                total += size
                if limit is not None and total > limit:
                    self.handler.close_connection = True
                    break
            self._body = b"".join(parts)
        else:
            length = self.content_length() or 0
            self._body = rfile.read(length) if length else b""
        return self._body

    def json(self):
        """Parse the body as JSON (no NaN/Infinity); raises ValueError."""
        data = self.body()
        if not data:
            raise ValueError("The request body is empty.")
        return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)

    def form(self):
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body().decode("utf-8"), keep_blank_values=True).items()}

    def bearer(self):
        value = self.headers.get("Authorization") or ""
        scheme, _sep, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


class Response:
    def __init__(self, status, body=b"", content_type=None, headers=None):
        self.status = status
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        self.headers = dict(headers or {})
        if content_type:
            self.headers["Content-Type"] = content_type
        self.close = False
        self.abort = False


def json_response(status, obj, headers=None, content_type="application/json; charset=utf-8"):
    body = b"" if obj is None else json.dumps(obj).encode("utf-8")
    return Response(status, body, content_type if obj is not None else None, headers)


class Service:
    """Base for a service on its own port. Subclasses implement ``_handle(req) -> Response`` (raising ``HttpError``
    to refuse), or ``handle`` itself."""

    name = "service"

    def __init__(self, emulator):
        self.emulator = emulator
        self.state = emulator.state

    def handle(self, req):
        try:
            return self._handle(req)
        except HttpError as exc:
            return self.refuse(req, exc)

    def _handle(self, req):
        raise NotImplementedError

    def refuse(self, req, exc):
        """The answer to an ``HttpError`` raised while handling ``req``."""
        return self.error(exc.status, exc.code, exc.message, req)

    def error(self, status, code, message, req=None):  # pylint: disable=unused-argument
        return json_response(status, {"error": {"code": code, "message": message}})

    def fault_response(self, req, fault):
        code = {429: "TooManyRequests", 503: "ServiceUnavailable", 500: "InternalServerError"}.get(fault.status, "Fault")
        resp = self.error(fault.status, code, "Injected fault: HTTP %d." % fault.status, req)
        if fault.retry_after is not None and fault.status in (429, 503):
            resp.headers["Retry-After"] = str(fault.retry_after)
        return resp


def redacted_authorization(value):
    if not value:
        return None
    scheme, _sep, token = value.partition(" ")
    claims = jwt.unverified_claims(token.strip())
    if claims is None:
        return {"scheme": scheme, "claims": None}
    keep = ("aud", "iss", "appid", "azp", "oid", "sub", "tid", "exp", "nbf", "iat", "upn", "roles", "xms_mirid")
    return {"scheme": scheme, "claims": {k: claims[k] for k in keep if k in claims}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "azmon-emulator/1.0"
    sys_version = ""
    timeout = 120

    expect_continue = False

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def handle_expect_100(self):
        self.expect_continue = True  # answered when the body is read: see Request.body()
        return True

    def do_GET(self):  # pylint: disable=invalid-name
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _abort(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def _dispatch(self):
        emulator = self.server.emulator
        service = self.server.service
        started = time.time()
        req = Request(self, service.name)
        number = emulator.state.next_request_number()
        fault = emulator.faults.pick(service.name, req.method, req.path)
        action = None
        if fault is not None:
            action = fault.action
            if action == "login_outage":
                action = "reset_before_body" if fault.mode == "reset" else "status"
            if action in SERVICE_ACTIONS:
                req.fault = fault
        resp = None
        if action == "status":
            resp = service.fault_response(req, fault)
        elif action == "reset_before_body":
            self._abort()
            self._log(emulator, req, number, started, None, fault)
            return
        elif action == "slow":
            time.sleep(fault.delay)
        elif action == "500_after_body":
            # the client sees its whole body taken, then a 500: from outside, as ambiguous as 500_after_ingest
            try:
                req.body(limit=DRAIN_LIMIT)
            except (OSError, ValueError):
                pass
            resp = service.error(fault.status, "InternalServerError",
                                 "Injected fault: HTTP %d after reading the body; nothing was processed." % fault.status, req)
        if resp is None:
            try:
                resp = service.handle(req)
            except Exception:  # pylint: disable=broad-except
                emulator.errors.append(traceback.format_exc())
                resp = service.error(500, "InternalServerError", "The emulator failed: " + traceback.format_exc(limit=1), req)
        if action == "500_after_ingest":
            resp = service.error(fault.status, "InternalServerError", "Injected fault: HTTP %d after processing." % fault.status, req)
        if action == "reset_after_ingest":
            self._abort()
            self._log(emulator, req, number, started, None, fault)
            return
        self._send(req, resp)
        self._log(emulator, req, number, started, resp.status, fault)

    def _send(self, req, resp):
        try:
            declared = req.content_length()
        except ValueError:
            declared = None
            resp.close = True
        if not req.body_read and req.expect_continue:
            resp.close = True  # the client holds its body back; nothing to drain
        elif not req.body_read and (declared or req.is_chunked()):
            # Drain an unread body so that the client reads the answer (closing with unread data sends a TCP reset).
            if req.is_chunked() or declared <= DRAIN_LIMIT:
                try:
                    req.body(limit=DRAIN_LIMIT)
                except (OSError, ValueError):
                    resp.close = True
            else:
                resp.close = True
        self.send_response(resp.status)
        headers = dict(resp.headers)
        headers.setdefault("x-ms-request-id", req.request_id)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        if resp.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if req.method != "HEAD" and resp.body:
            self.wfile.write(resp.body)

    def _log(self, emulator, req, number, started, status, fault):
        headers = {}
        for name in LOGGED_HEADERS:
            value = req.headers.get(name)
            if value is not None:
                headers[name] = value
        if req.headers.get("Authorization") is not None:
            headers["authorization"] = redacted_authorization(req.headers.get("Authorization"))
        for secret_header in ("X-IDENTITY-HEADER", "Secret"):
            if req.headers.get(secret_header) is not None:
                headers[secret_header.lower()] = "<redacted>"
        if req.body_read:
            size = len(req._body or b"")  # pylint: disable=protected-access
        else:
            try:
                size = req.content_length()
            except ValueError:
                size = None
        entry = {
            "n": number, "time": started, "service": req.service, "method": req.method, "path": req.path,
            "rawPath": req.raw_path, "query": req.query, "headers": headers, "bodySize": size, "bodyRead": req.body_read,
            "status": status, "aborted": status is None, "fault": fault.id if fault else None,
            "faultAction": fault.action if fault else None, "requestId": req.request_id,
            "durationMs": round((time.time() - started) * 1000, 1), "client": self.client_address[0],
        }
        if req.service in LOGGED_BODIES and req.body_read and 0 < size <= 65536:
            try:
                entry["json"] = json.loads(req._body)  # pylint: disable=protected-access
            except ValueError:
                pass
        emulator.state.log_request(entry)


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, context, emulator, service):
        self.context = context
        self.emulator = emulator
        self.service = service
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        request.settimeout(30)
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass

    def start(self):
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2},
                                  name="azmon-%s" % self.service.name, daemon=True)
        thread.start()
        return thread
