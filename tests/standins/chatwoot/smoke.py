#!/usr/bin/env python3
"""Smoke test of the Chatwoot stand-in (server.py next to this file).

Why: the stand-in is itself test apparatus, so it needs its own check before
chatcap's load tester relies on it.  This starts the server on a free port,
plays a scripted live-chat scenario through every endpoint (sign-in,
availability, routing with the per-agent limit and FIFO queue, messages both
ways, agent and team transfers, resolves by agent and by contact, error
answers), checks the conservation counts, fires a short keep-alive burst, and
stops the server by its pid.  Standard library only; exits non-zero on the
first failure and is bounded to 60 s.  Run: python3 smoke.py
"""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACCOUNT = 7
INBOX = "smoke-inbox"
PASSWORD = "smoke-secret"
BASE = ""  # set once the server tells its port


class Failure(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Failure(what)


def call(method: str, path: str, body=None, token=None, headers=None, raw=None):
    """One request with urllib; returns (status, parsed JSON body, headers)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("api_access_token", token)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            status, text, got = resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as err:
        status, text, got = err.code, err.read(), err.headers
    check(int(got["Content-Length"]) == len(text), f"{method} {path}: Content-Length")
    return status, json.loads(text), got


def ok(method, path, body=None, token=None, **kw):
    status, parsed, _ = call(method, path, body, token, **kw)
    check(status == 200, f"{method} {path} -> {status} {parsed}")
    return parsed


def expect(status, method, path, body=None, token=None, **kw):
    got, parsed, _ = call(method, path, body, token, **kw)
    check(got == status, f"{method} {path}: expected {status}, got {got} {parsed}")
    check(isinstance(parsed, dict) and parsed, f"{method} {path}: JSON error body")
    return parsed


# -- the server process ----------------------------------------------------------


def start_server() -> subprocess.Popen:
    global BASE
    cmd = [sys.executable, str(HERE / "server.py"), "--port", "0", "--agents", "4",
           "--max-per-agent", "2", "--account-id", str(ACCOUNT), "--inbox-identifier",
           INBOX, "--password", PASSWORD, "--teams", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    check(bool(ready), "server printed nothing within 10 s")
    line = proc.stdout.readline().strip()
    check(line.startswith("listening on http://127.0.0.1:"), f"first line: {line!r}")
    BASE = line.removeprefix("listening on ")
    return proc


def stop_server(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGTERM)
    code = proc.wait(timeout=10)
    check(code == 0, f"server exit code {code} after SIGTERM")


# -- helpers for the scenario -------------------------------------------------------


def app(path: str) -> str:
    return f"/api/v1/accounts/{ACCOUNT}{path}"


def pub(path: str) -> str:
    return f"/public/api/v1/inboxes/{INBOX}/contacts{path}"


def sign_in(k: int) -> str:
    body = ok("POST", "/auth/sign_in", {"email": f"agent{k}@standin.test",
                                        "password": PASSWORD})
    data = body["data"]
    check(data["id"] == k and data["access_token"] == f"standin-token-{k}", "sign_in data")
    check(data["account_id"] == ACCOUNT and data["accounts"][0]["id"] == ACCOUNT,
          "sign_in account")
    check(data["accounts"][0]["availability"] == "offline", "agents start offline")
    return data["access_token"]


def set_availability(token: str, value: str) -> None:
    user = ok("POST", "/api/v1/profile/availability",
              {"profile": {"availability": value, "account_id": ACCOUNT}}, token)
    check(user["accounts"][0]["availability"] == value, f"availability {value}")


def new_contact(n: int) -> dict:
    contact = ok("POST", pub(""), {"name": f"Customer {n}", "email": f"c{n}@example.test",
                                   "custom_attributes": {"n": n}})
    for key in ("source_id", "pubsub_token", "id", "name", "email"):
        check(key in contact, f"contact field {key}")
    return contact


def new_conversation(contact: dict) -> dict:
    conv = ok("POST", pub(f"/{contact['source_id']}/conversations"), {})
    check(conv["status"] == "open" and conv["messages"] == [], "new conversation open")
    check(conv["contact"]["id"] == contact["id"] and "inbox_id" in conv, "conversation shape")
    return conv


def assignee(token: str, conv_id: int):
    conv = ok("GET", app(f"/conversations/{conv_id}"), token=token)
    return conv["meta"].get("assignee", {}).get("id")


def mine(token: str) -> dict:
    return ok("GET", app("/conversations?assignee_type=me&status=open"), token=token)["data"]


# -- the scenario ---------------------------------------------------------------------


def check_errors() -> None:
    expect(404, "GET", "/no/such/path")
    expect(400, "POST", pub(""), raw=b"{not json")
    expect(404, "POST", "/public/api/v1/inboxes/wrong-inbox/contacts", {})
    expect(404, "POST", pub("/no-such-contact/conversations"), {})
    expect(401, "GET", app("/conversations"))
    expect(401, "GET", app("/conversations"), token="bad-token")
    expect(401, "POST", "/auth/sign_in", {"email": "agent1@standin.test", "password": "x"})
    expect(404, "GET", app("/conversations/999999"), token="standin-token-1")
    expect(404, "GET", "/api/v1/accounts/99999/conversations", token="standin-token-1")
    expect(422, "POST", "/api/v1/profile/availability", {"profile": {}}, "standin-token-1")


def check_devise_headers() -> None:
    _, body, headers = call("POST", "/auth/sign_in",
                            {"email": "agent1@standin.test", "password": PASSWORD})
    triple = {k: headers[k] for k in ("access-token", "client", "uid")}
    check(all(triple.values()), "devise_token_auth headers on sign_in")
    profile = ok("GET", "/api/v1/profile", headers=triple)
    check(profile["id"] == 1 and profile["email"] == "agent1@standin.test", "profile via devise")


def routing(tokens, contacts, convs) -> None:
    """1 conversation waits while all are offline; then 2 per agent, FIFO rest."""
    contacts.append(new_contact(1))
    convs.append(new_conversation(contacts[0]))
    check(assignee(tokens[1], convs[0]["id"]) is None, "nobody online: waits")
    for k in (1, 2, 3):
        set_availability(tokens[k], "online")
    check(assignee(tokens[1], convs[0]["id"]) == 1, "queued conversation to agent 1")
    for n in range(2, 9):
        contacts.append(new_contact(n))
        convs.append(new_conversation(contacts[-1]))
    want = [1, 2, 3, 1, 2, 3, None, None]
    got = [assignee(tokens[1], c["id"]) for c in convs]
    check(got == want, f"least-loaded, lowest id, limit 2: {got}")
    data = mine(tokens[2])
    check(data["meta"] == {"mine_count": 2, "assigned_count": 6, "unassigned_count": 2,
                           "all_count": 8}, f"list meta {data['meta']}")
    check(sorted(c["id"] for c in data["payload"]) == [convs[1]["id"], convs[4]["id"]],
          "assignee_type=me payload")


def messages_both_ways(tokens, contacts, convs) -> None:
    src, cid = contacts[1]["source_id"], convs[1]["id"]
    msg = ok("POST", pub(f"/{src}/conversations/{cid}/messages"), {"content": "hello"})
    check(msg["message_type"] == 0 and msg["content"] == "hello", "incoming message")
    reply = ok("POST", app(f"/conversations/{cid}/messages"),
               {"content": "hi, how can I help?", "message_type": "outgoing",
                "private": False}, tokens[2])
    check(reply["message_type"] == 1 and reply["sender"]["id"] == 2, "outgoing message")
    ok("POST", app(f"/conversations/{cid}/messages"),
       {"content": "note", "private": True}, tokens[2])
    seen = ok("GET", pub(f"/{src}/conversations/{cid}/messages"))
    check([m["message_type"] for m in seen] == [0, 1], "public list hides private notes")
    check(seen[1]["sender"]["type"] == "user" and "created_at" in seen[0], "message shape")
    listed = ok("GET", app(f"/conversations/{cid}/messages"), token=tokens[2])
    check([m["private"] for m in listed["payload"]] == [False, False, True], "app list")
    check(listed["meta"]["assignee"]["id"] == 2, "messages meta assignee")


def client_reads(tokens, contacts, convs) -> None:
    src = contacts[0]["source_id"]
    check(ok("GET", pub(f"/{src}"))["id"] == contacts[0]["id"], "contact show")
    listed = ok("GET", pub(f"/{src}/conversations"))
    check([c["id"] for c in listed] == [convs[0]["id"]], "contact's conversations")
    shown = ok("GET", pub(f"/{src}/conversations/{convs[0]['id']}"))
    check(shown["status"] == "open", "conversation show")
    expect(404, "GET", pub(f"/{src}/conversations/{convs[1]['id']}"))  # not its own
    user = ok("PUT", "/api/v1/profile", {"profile": {"display_name": "Ann"}}, tokens[1])
    check(user["display_name"] == "Ann", "profile update")


def transfers(tokens, convs) -> None:
    # agent 1 hands conversation 4 to (offline) agent 4; its slot takes the
    # oldest queued conversation (7)
    agent = ok("POST", app(f"/conversations/{convs[3]['id']}/assignments"),
               {"assignee_id": 4}, tokens[1])
    check(agent["id"] == 4, "assignment answers the agent")
    check(assignee(tokens[1], convs[3]["id"]) == 4, "transferred to agent 4")
    check(assignee(tokens[1], convs[6]["id"]) == 1, "freed slot takes FIFO head")
    # conversation 3 (agent 3, team 1) moves to team 2 (agents 2 and 4): agent 2
    # is full and 4 is offline, so it waits; agent 3's slot takes conversation 8
    team = ok("POST", app(f"/conversations/{convs[2]['id']}/assignments"),
              {"team_id": 2}, tokens[3])
    check(team["id"] == 2, "team assignment answers the team")
    check(assignee(tokens[1], convs[2]["id"]) is None, "team transfer drops assignee")
    check(assignee(tokens[1], convs[7]["id"]) == 3, "agent 3 takes conversation 8")
    expect(404, "POST", app(f"/conversations/{convs[0]['id']}/assignments"),
           {"assignee_id": 999}, tokens[1])


def resolves(tokens, contacts, convs) -> None:
    result = ok("POST", app(f"/conversations/{convs[1]['id']}/toggle_status"),
                {"status": "resolved"}, tokens[2])
    check(result["payload"]["current_status"] == "resolved", "agent resolve")
    check(assignee(tokens[1], convs[2]["id"]) == 2, "team-2 conversation to agent 2")
    src, cid = contacts[4]["source_id"], convs[4]["id"]
    conv = ok("POST", pub(f"/{src}/conversations/{cid}/toggle_status"))
    check(conv["status"] == "resolved", "contact resolve")
    expect(422, "POST", app(f"/conversations/{cid}/toggle_status"), {"status": "pending"},
           tokens[2])
    # the contact of the agent-resolved conversation writes again: reopened
    src, cid = contacts[1]["source_id"], convs[1]["id"]
    ok("POST", pub(f"/{src}/conversations/{cid}/messages"), {"content": "one more thing"})
    check(ok("GET", app(f"/conversations/{cid}"), token=tokens[2])["status"] == "open",
          "incoming message reopens")
    set_availability(tokens[3], "offline")
    check(mine(tokens[3])["meta"]["mine_count"] == 2, "offline agent keeps conversations")


def check_counts(expect_open: int) -> dict:
    counts = ok("GET", "/standin/counts")
    parts = counts["open_unassigned"] + counts["open_assigned"] + counts["resolved"]
    check(parts == counts["conversations_created"], f"conservation: {counts}")
    check(counts["open_unassigned"] + counts["open_assigned"] == expect_open,
          f"open count: {counts}")
    return counts


def resolve_all(tokens) -> None:
    listing = ok("GET", app("/conversations?status=open&assignee_type=all"), token=tokens[1])
    for conv in listing["data"]["payload"]:
        ok("POST", app(f"/conversations/{conv['id']}/toggle_status"), {"status": "resolved"},
           tokens[1])


def burst(seconds: float = 2.0, workers: int = 8) -> float:
    """Keep-alive hammering with http.client; answers/s over all workers."""
    host, port = BASE.removeprefix("http://").split(":")
    done, errors = [0] * workers, []

    def run(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            conn.request("GET", app("/conversations?assignee_type=me"),
                         headers={"api_access_token": "standin-token-1"})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200 or len(body) != int(resp.headers["Content-Length"]):
                errors.append(resp.status)
                return
            done[i] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, f"burst errors: {errors[:5]}")
    return sum(done) / seconds


def scenario() -> None:
    check_errors()
    check_devise_headers()
    tokens = {k: sign_in(k) for k in (1, 2, 3, 4)}
    contacts, convs = [], []
    routing(tokens, contacts, convs)
    messages_both_ways(tokens, contacts, convs)
    client_reads(tokens, contacts, convs)
    transfers(tokens, convs)
    resolves(tokens, contacts, convs)
    counts = check_counts(expect_open=7)
    want = {"contacts": 8, "conversations_created": 8, "open_unassigned": 0,
            "open_assigned": 7, "resolved": 1, "resolved_by_agent": 1,
            "resolved_by_contact": 1, "messages_incoming": 2, "messages_outgoing": 2,
            "assignments": 10, "transfers": 2}
    check(counts == want, f"counts {counts} != {want}")
    resolve_all(tokens)
    final = check_counts(expect_open=0)
    check(final["resolved"] == 8 and final["resolved_by_agent"] == 8, f"final {final}")
    rate = burst()
    print(f"smoke: ok ({rate:.0f} keep-alive answers/s in the burst)")


def main() -> int:
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Failure("timeout")))
    signal.alarm(60)
    proc = start_server()
    try:
        scenario()
    except Failure as err:
        print(f"smoke: FAILED: {err}", file=sys.stderr)
        return 1
    finally:
        if proc.poll() is None:
            stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
