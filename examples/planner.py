#!/usr/bin/env python3
"""An example planner for plancache: sleeps like an LLM call, returns a task list.

plancache calls a planner on a cache miss (`plancache serve --planner-url URL` or
`--planner-cmd CMD`). The planner receives {"goal", "context", "namespace"} as JSON
and answers with the plan as JSON. This one answers, after --delay-ms:

  {"goal": G, "namespace": NS, "tasks": [{"id": 1, "title": "..."}, ...],
   "planner": "example"}

The tasks depend only on the goal (the same goal always gives the same plan).

Incremental planning (--incremental; plancache serve --planner-incremental, or
planner_incremental = true next to a lane's planner_cmd / planner_url): each
plan also has one "context_steps" entry per top-level context member, made in
--step-ms each, after the goal's --delay-ms. A request carrying
"incremental": {"previous": {"goal", "context", "plan"}, "changes": [RFC 6902
operations from the previous context to this one], "impact": x} reuses the
previous plan: only the steps of the changed members are recomputed
(--step-ms each, no --delay-ms), and the answer is {"patch": [operations on
the previous plan]} (--incremental-answer plan: the whole new plan;
bad-patch: a patch that does not apply, to test the fallback).

Two ways to run it:

  planner.py --stdin [--calls-file F]
      Command planner: read one request from stdin, write the plan to stdout.
      plancache serve --planner-cmd 'python3 examples/planner.py --stdin'

  planner.py --port N [--host 127.0.0.1] [--port-file F]
      HTTP planner: POST any path -> the plan. GET /calls -> {"calls": N,
      "connections": C, "open_connections": O}: planning requests received,
      connections that carried at least one of them, and how many of those
      are still open. --port 0 picks a free port (write it with --port-file).
      plancache serve --planner-url http://127.0.0.1:9000/plan

Misbehaving on purpose, for tests (--mode, or the first word of --mode-file
when that file exists, read on every call):
  ok       the plan (default)
  garbage  an answer that is not JSON
  fail     HTTP 500 / exit status 1, with a message ("planner failed on purpose")
  hang     never answers

Only the Python 3 standard library is used.
"""

import argparse
import fcntl
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "garbage", "fail", "hang")
INCREMENTAL_ANSWERS = ("patch", "plan", "bad-patch")

STEPS = (
    "Clarify what '{goal}' has to achieve",
    "List the inputs and constraints for '{goal}'",
    "Split '{goal}' into milestones",
    "Draft the first milestone of '{goal}'",
    "Review the draft of '{goal}' with the stakeholders",
    "Test the result of '{goal}'",
    "Ship '{goal}' and write down what was learned",
)


class BadRequest(Exception):
    """The request document is not {"goal": string, ...}."""


def make_plan(request, pad_bytes=0):
    """The plan for one request: deterministic per goal."""
    if not isinstance(request, dict) or not isinstance(request.get("goal"), str):
        raise BadRequest('expected a JSON object with a string "goal"')
    goal = request["goal"]
    namespace = request.get("namespace") or "default"
    digest = hashlib.sha256(goal.encode("utf-8", "surrogatepass")).digest()
    count = 3 + digest[0] % 4  # 3..6 tasks
    start = digest[1] % (len(STEPS) - count + 1)
    tasks = [{"id": i + 1, "title": STEPS[start + i].format(goal=goal)} for i in range(count)]
    plan = {"goal": goal, "namespace": namespace, "tasks": tasks, "planner": "example"}
    if pad_bytes > 0:
        plan["padding"] = "x" * pad_bytes
    return plan


def context_step(goal, field, value):
    return {"field": field,
            "title": "Set up %s = %s for '%s'" % (field, json.dumps(value, sort_keys=True), goal)}


def context_steps(goal, context):
    """One step per top-level context member, in member order (sorted)."""
    if not isinstance(context, dict):
        return [] if context is None else [context_step(goal, "", context)]
    return [context_step(goal, field, context[field]) for field in sorted(context)]


def changed_fields(changes):
    """The top-level context members an RFC 6902 patch touches; None = all."""
    fields = set()
    for op in changes if isinstance(changes, list) else []:
        path = op.get("path", "") if isinstance(op, dict) else ""
        if path == "":
            return None  # the whole context was replaced
        first = path.split("/")[1].replace("~1", "/").replace("~0", "~")
        fields.add(first)
    return fields


def incremental_plan(args, request):
    """(plan, patch, steps recomputed) reusing request["incremental"]["previous"]
    when it fits, else None (plan from scratch)."""
    inc = request.get("incremental")
    previous = inc.get("previous") if isinstance(inc, dict) else None
    if not isinstance(previous, dict) or previous.get("goal") != request["goal"]:
        return None
    old_plan = previous.get("plan")
    if not isinstance(old_plan, dict) or not isinstance(old_plan.get("context_steps"), list):
        return None
    changed = changed_fields(inc.get("changes"))
    context = request.get("context")
    new_steps = context_steps(request["goal"], context)
    if changed is None or not isinstance(context, dict):
        redo = len(new_steps)
    else:
        redo = sum(1 for step in new_steps if step["field"] in changed)
    plan = dict(old_plan, context_steps=new_steps)
    old_fields = [step.get("field") for step in old_plan["context_steps"]]
    if old_fields == [step["field"] for step in new_steps]:
        patch = [{"op": "replace", "path": "/context_steps/%d" % i, "value": step}
                 for i, step in enumerate(new_steps) if step != old_plan["context_steps"][i]]
    else:
        patch = [{"op": "replace", "path": "/context_steps", "value": new_steps}]
    return plan, patch, redo


def current_mode(args):
    """--mode, overridden by the first word of --mode-file when it exists."""
    if args.mode_file:
        try:
            with open(args.mode_file) as f:
                words = f.read().split()
        except FileNotFoundError:
            words = []
        if words and words[0] in MODES:
            return words[0]
    return args.mode


def append_line(path, line):
    """Appends one line under an exclusive lock (several --stdin processes may
    write at once)."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            f.write(line + "\n")
            f.flush()
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def record_call(path, goal, started, ended, incremental=False):
    """One line per planning call. Times are time.monotonic() seconds,
    comparable between processes on the same machine."""
    call = {"goal": goal, "pid": os.getpid(), "start": started, "end": ended}
    if incremental:
        call["incremental"] = True
    append_line(path, json.dumps(call))


def hang_forever():
    while True:
        time.sleep(3600)


def think(args, request):
    """Sleeps like an LLM call, records the call, and returns (mode, answer).
    The answer is the plan, or with --incremental and an incremental request
    {"patch": [...]} (per --incremental-answer). Raises BadRequest for a
    malformed request."""
    started = time.monotonic()
    mode = current_mode(args)
    if args.requests_file:
        append_line(args.requests_file, json.dumps(request, sort_keys=True))
    plan = make_plan(request, args.pad_bytes)
    reused = None
    if args.incremental:
        plan["context_steps"] = context_steps(plan["goal"], request.get("context"))
        reused = incremental_plan(args, request)
    if mode == "hang":
        hang_forever()
    if reused is None:
        steps = len(plan.get("context_steps", ()))
        time.sleep((args.delay_ms + args.step_ms * steps) / 1000.0)
        answer = plan
    else:
        plan, patch, redo = reused
        time.sleep(args.step_ms * redo / 1000.0)  # only the changed steps
        answer = {"plan": plan, "patch": {"patch": patch},
                  "bad-patch": {"patch": [{"op": "remove", "path": "/no/such/member"}]}
                  }[args.incremental_answer]
    if args.calls_file:
        record_call(args.calls_file, plan["goal"], started, time.monotonic(), reused is not None)
    return mode, answer


def garbage_for(answer):
    return "this is not JSON: a plan for %s" % answer.get("goal", "(a patch)")


def run_stdin(args):
    try:
        request = json.loads(sys.stdin.buffer.read().decode("utf-8", "surrogateescape"))
        mode, plan = think(args, request)
    except (ValueError, BadRequest) as e:
        sys.stderr.write("planner.py: bad request: %s\n" % e)
        return 2
    if mode == "fail":
        sys.stderr.write("planner.py: planner failed on purpose (--mode fail)\n")
        return 1
    if mode == "garbage":
        sys.stdout.write(garbage_for(plan) + "\n")
    else:
        sys.stdout.write(json.dumps(plan) + "\n")
    sys.stdout.flush()
    return 0


class Counters:
    """What GET /calls reports. The lock guards every field."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = 0
        self.connections = 0
        self.open_connections = 0


def make_handler(args, counters):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        server_version = "plancache-example-planner"
        timeout = args.idle_timeout_ms / 1000.0 if args.idle_timeout_ms else None

        def setup(self):
            super().setup()
            self.planned_here = False

        def finish(self):
            try:
                super().finish()
            finally:
                if self.planned_here:
                    with counters.lock:
                        counters.open_connections -= 1

        def log_message(self, fmt, *fmt_args):
            if args.verbose:
                sys.stderr.write("planner.py: %s\n" % (fmt % fmt_args))

        def answer(self, status, body, content_type="application/json"):
            data = body.encode("utf-8", "surrogateescape")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path.split("?")[0] != "/calls":
                self.answer(404, json.dumps({"error": "GET /calls only; POST any path to plan"}))
                return
            with counters.lock:
                body = {"calls": counters.calls, "connections": counters.connections,
                        "open_connections": counters.open_connections}
            self.answer(200, json.dumps(body))

        def do_POST(self):
            with counters.lock:
                counters.calls += 1
                if not self.planned_here:
                    counters.connections += 1
                    counters.open_connections += 1
            self.planned_here = True
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            try:
                mode, plan = think(args, json.loads(raw.decode("utf-8", "surrogateescape")))
            except (ValueError, BadRequest) as e:
                self.answer(400, json.dumps({"error": "bad request: %s" % e}))
                return
            if mode == "fail":
                self.answer(500, json.dumps({"error": "planner failed on purpose (--mode fail)"}))
            elif mode == "garbage":
                self.answer(200, garbage_for(plan), "text/plain")
            else:
                self.answer(200, json.dumps(plan))

    return Handler


def write_port_file(path, port):
    """Writes the port atomically: a reader sees nothing or the whole number."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def run_http(args):
    counters = Counters()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args, counters))
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    if args.verbose:
        sys.stderr.write("planner.py: listening on http://%s:%d/\n" % (args.host, port))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stdin", action="store_true",
                       help="read one request on stdin, write the plan on stdout")
    where.add_argument("--port", type=int, metavar="N",
                       help="serve HTTP on port N (0: pick a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    parser.add_argument("--port-file", metavar="F", help="write the HTTP port to F")
    parser.add_argument("--delay-ms", type=int, default=800, metavar="D",
                        help="time spent 'thinking' per plan (default 800)")
    parser.add_argument("--calls-file", metavar="F",
                        help="append one JSON line per planning call to F "
                             '({"goal","pid","start","end"}, written under flock)')
    parser.add_argument("--mode", choices=MODES, default="ok",
                        help="ok (default), garbage, fail or hang")
    parser.add_argument("--mode-file", metavar="F",
                        help="when F exists, its first word overrides --mode (read per call)")
    parser.add_argument("--pad-bytes", type=int, default=0, metavar="B",
                        help='add a "padding" string of B bytes to each plan (large answers)')
    parser.add_argument("--incremental", action="store_true",
                        help="plans get one step per context member; incremental requests "
                             "are answered with a patch of the previous plan")
    parser.add_argument("--step-ms", type=int, default=100, metavar="S",
                        help="--incremental: time per context step made (default 100)")
    parser.add_argument("--incremental-answer", choices=INCREMENTAL_ANSWERS, default="patch",
                        help="--incremental: answer a patch (default), the whole plan, "
                             "or a patch that does not apply")
    parser.add_argument("--requests-file", metavar="F",
                        help="append every request received to F (one JSON line each)")
    parser.add_argument("--idle-timeout-ms", type=int, default=0, metavar="T",
                        help="HTTP: close a keep-alive connection idle for T ms (default: never)")
    parser.add_argument("--verbose", action="store_true", help="log HTTP requests to stderr")
    args = parser.parse_args(argv)
    if min(args.delay_ms, args.pad_bytes, args.idle_timeout_ms, args.step_ms) < 0:
        parser.error("--delay-ms, --pad-bytes, --idle-timeout-ms and --step-ms must not be "
                     "negative")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return run_stdin(args) if args.stdin else run_http(args)


if __name__ == "__main__":
    sys.exit(main())
