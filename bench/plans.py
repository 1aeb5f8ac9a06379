"""Realistic plan documents for the benchmarks (bench/http.sh, bench/rss.py).

make_plan(i, size) returns the compact JSON text of plan number i, exactly
`size` bytes long: a task list of the kind an LLM or playbook planner emits
(ids, names, shell commands, dependencies, estimates, tags, environment),
built from a generator seeded by i, so that plans differ from one another
and from run to run of the same i they are identical. The text compresses
like real plans do (repeated field names and vocabulary, random hashes and
numbers), not like a run of one byte.

zstd_ratio(texts, level) compresses each text on its own with libzstd (through
ctypes, no Python package needed) and returns raw bytes / compressed bytes.

Standard library only; run by /usr/bin/python3.
"""

import ctypes
import ctypes.util
import json
import random

_VERBS = ["checkout", "build", "test", "lint", "package", "scan", "deploy", "migrate", "verify",
          "rollback", "notify", "snapshot", "provision", "configure", "drain", "restart",
          "canary", "promote", "archive", "index", "render", "summarise", "fetch", "validate"]
_OBJECTS = ["web-frontend", "api-gateway", "billing-service", "search-index", "auth-service",
            "postgres-primary", "redis-cache", "kafka-cluster", "ml-feature-store", "cdn-edge",
            "payments-worker", "email-relay", "dashboard", "etl-pipeline", "docs-site",
            "inventory-db", "scheduler", "tls-certificates", "dns-zone", "object-storage"]
_REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1", "ap-northeast-1"]
_TOOLS = ["make", "npm run", "cargo", "go", "pytest", "ansible-playbook", "terraform", "kubectl",
          "helm", "docker", "psql", "aws s3", "gcloud", "rsync", "curl -fsS"]
_WORDS = ("the of and to in is for on with as by at from that this be it are was an or which "
          "service release rollout traffic latency budget error replica shard index cache queue "
          "worker deploy window freeze approval owner oncall runbook alert metric threshold "
          "retry backoff timeout quorum leader follower snapshot restore migration schema "
          "column table partition region zone cluster node pod container image digest tag "
          "version commit branch merge review check build artifact registry secret vault "
          "rotate certificate expiry renew dns record ttl propagate verify health probe").split()


def _hex(rng, n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def _sentence(rng, words):
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def _task(rng, index):
    verb, obj = rng.choice(_VERBS), rng.choice(_OBJECTS)
    return {
        "id": "t%03d" % index,
        "name": "%s %s" % (verb, obj),
        "action": rng.choice(["shell", "http", "approval", "k8s", "sql", "wait"]),
        "command": "%s %s --target %s --region %s --rev %s" % (
            rng.choice(_TOOLS), verb, obj, rng.choice(_REGIONS), _hex(rng, 12)),
        "depends_on": ["t%03d" % d for d in sorted(rng.sample(range(index), min(index, rng.randint(0, 3))))],
        "timeout_s": rng.choice([30, 60, 120, 300, 600, 1800]),
        "retries": rng.randint(0, 3),
        "estimate_s": round(rng.uniform(0.5, 900.0), 1),
        "tags": sorted(set(rng.choice(["ci", "prod", "staging", "db", "network", "security", "slow",
                                       "idempotent", "manual", "gpu"]) for _ in range(rng.randint(1, 3)))),
        "env": {"REGION": rng.choice(_REGIONS), "BUILD_ID": str(rng.randint(10000, 99999)),
                "ARTIFACT": "sha256:" + _hex(rng, 32)},
        "rationale": _sentence(rng, rng.randint(8, 24)),
    }


def make_plan(i, size):
    """The compact JSON text of plan i, exactly `size` bytes (size >= 400)."""
    rng = random.Random(i * 7919 + size)
    plan = {
        "plan_id": "plan-%06d-%s" % (i, _hex(rng, 8)),
        "goal": "%s %s in %s" % (rng.choice(_VERBS), rng.choice(_OBJECTS), rng.choice(_REGIONS)),
        "planner": {"model": rng.choice(["gpt-4o", "claude-3.5", "llama-3-70b", "playbook-v2"]),
                    "temperature": round(rng.uniform(0, 1), 2), "tokens": rng.randint(800, 12000)},
        "version": rng.randint(1, 40),
        "tasks": [],
        "notes": "",
    }
    dump = lambda: json.dumps(plan, separators=(",", ":"))
    # Add tasks while they fit (lengths summed, not re-serialised), then fill
    # the rest with prose in "notes".
    length = len(dump())  # with "tasks":[] and "notes":""
    while True:
        task = _task(rng, len(plan["tasks"]))
        grown = length + len(json.dumps(task, separators=(",", ":"))) + (1 if plan["tasks"] else 0)
        if grown > size:
            break
        plan["tasks"].append(task)
        length = grown
    notes = []
    while length + len(" ".join(notes)) < size:
        notes.append(_sentence(rng, rng.randint(6, 18)))
    plan["notes"] = " ".join(notes)[:size - length]
    text = dump()
    while len(text) > size:  # an escaped character in the cut: shorten
        plan["notes"] = plan["notes"][:-1]
        text = dump()
    if len(text) < size:
        plan["notes"] += " " * (size - len(text))
        text = dump()
    assert len(text) == size, (len(text), size)
    return text


def zstd_ratio(texts, level=3):
    """Raw bytes / zstd-compressed bytes, each text compressed on its own."""
    lib = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
    lib.ZSTD_compressBound.restype = ctypes.c_size_t
    lib.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
    lib.ZSTD_compress.restype = ctypes.c_size_t
    lib.ZSTD_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                  ctypes.c_size_t, ctypes.c_int]
    lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
    raw = packed = 0
    for text in texts:
        data = text.encode()
        cap = lib.ZSTD_compressBound(len(data))
        out = ctypes.create_string_buffer(cap)
        n = lib.ZSTD_compress(out, cap, data, len(data), level)
        if lib.ZSTD_isError(n):
            raise RuntimeError("ZSTD_compress failed")
        raw += len(data)
        packed += n
    return raw / packed


if __name__ == "__main__":
    import sys
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    texts = [make_plan(i, size) for i in range(n)]
    print(texts[0][:600] + " ...")
    print("distinct: %d/%d  zstd-3 ratio %.2f" % (len(set(texts)), n, zstd_ratio(texts)))
