#!/usr/bin/env python3
"""Stand-in for Chatwoot's public HTTP APIs, for chatcap's load-test tests.

Why this exists: chatcap's load tester must be exercised against something
that speaks Chatwoot's documented HTTP API (same paths, field names, status
codes and auth headers) without a Rails + Postgres + Redis + Sidekiq install.
This process keeps everything in memory, behind one lock, and implements only
the endpoints a customer (Client API) and an agent (Application API) need for
a live-chat session, plus Chatwoot-style auto-assignment with a per-agent
limit.  It is not Chatwoot: see README.md next to this file for exactly what
is implemented, which Chatwoot spec version it follows, and where it differs.

Standard library only (Python 3.11).  Run:

    python3 server.py --port 0 --agents 20 --max-per-agent 3 \
        --account-id 1 --inbox-identifier my-inbox [--password chatcap-password]

The first (and only) stdout line is ``listening on http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from common import ApiError, MAX_BODY_BYTES, Request
from model import State
from api import Api, dispatch


# --------------------------------------------------------------------------
# HTTP plumbing


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chatwoot-standin/1"
    wbufsize = -1  # buffer the answer; handle_one_request flushes it in one go
    api: Api  # set on the subclass made by make_server
    verbose = False

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_expect_100(self):
        ok = super().handle_expect_100()
        self.wfile.flush()  # the answer buffer would otherwise hold "100 Continue"
        return ok

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _serve(self):
        try:
            req = self._request()
            answer = dispatch(self.api, req)
        except ApiError as err:
            answer = (err.status, err.body)
        except Exception as exc:  # never let one bad request kill the server
            answer = (500, {"error": f"stand-in internal error: {exc!r}"})
        self._reply(*answer)

    def _request(self) -> Request:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        return Request(self.command, parts.path, query, self.headers, self._body())

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunked_body()
        length = self.headers.get("Content-Length", "0").strip() or "0"
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(400, {"error": "bad or too large Content-Length"})
        return self.rfile.read(int(length))

    def _chunked_body(self) -> bytes:
        data = bytearray()
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                self.close_connection = True
                raise ApiError(400, {"error": "bad chunked body"}) from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return bytes(data)
            data += self.rfile.read(size)
            self.rfile.readline(8)
            if len(data) > MAX_BODY_BYTES:
                self.close_connection = True
                raise ApiError(400, {"error": "body too large"})

    def _reply(self, status: int, body: object, headers: dict | None = None):
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def make_server(args: argparse.Namespace) -> Server:
    api = Api(State(args))
    handler = type("BoundHandler", (Handler,), {"api": api, "verbose": args.verbose})
    return Server(("127.0.0.1", args.port), handler)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--agents", type=int, default=20, help="seeded agents, ids 1..N")
    p.add_argument("--max-per-agent", type=int, default=3,
                   help="open conversations an agent may hold by auto-assignment (0 = no limit)")
    p.add_argument("--account-id", type=int, default=1)
    p.add_argument("--inbox-identifier", required=True,
                   help="identifier of the one API-channel inbox (public API paths)")
    p.add_argument("--password", default="chatcap-password", help="password of every agent")
    p.add_argument("--teams", type=int, default=1,
                   help="seeded teams; agent k belongs to team ((k-1) %% teams) + 1")
    p.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = p.parse_args(argv)
    if args.agents < 0 or args.teams < 0 or args.max_per_agent < 0:
        p.error("--agents, --teams and --max-per-agent must be >= 0")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    server = make_server(args)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    worker.start()
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
