"""Real redis-server processes for the integration tests (stdlib only).

RedisServer: one standalone server on a free loopback port, in a temporary
directory, no persistence; freeze() / thaw() (SIGSTOP / SIGCONT), kill9(),
restart() on the same port. RedisCluster: N masters (+ replicas each),
created with `redis-cli --cluster create`, ready when every node says
cluster_state:ok; reshard() and fail_over() for the fault tests. Both stop
everything they started on close(), whatever happened.
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import wait_until


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _pick_port(cluster):
    """A free port; for a cluster node also its bus port (+10000), < 55536."""
    for _ in range(200):
        port = random.randint(20000, 45000 if cluster else 55000)
        if _port_free(port) and (not cluster or _port_free(port + 10000)):
            return port
    raise AssertionError("no free port for redis-server")


def cli(port, *args, timeout_s=10.0, password=None):
    auth = ["-a", password, "--no-auth-warning"] if password else []
    out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port)] + auth +
                         [str(a) for a in args], capture_output=True, timeout=timeout_s)
    return out.stdout.decode("utf-8", "replace").strip()


class RedisServer:
    def __init__(self, extra=(), port=None, cluster=False, workdir=None, password=None):
        """password: the server's --requirepass (also used by cli())."""
        self.dir = workdir or tempfile.mkdtemp(prefix="plancache-redis-")
        self.password = password
        if password:
            extra = list(extra) + ["--requirepass", password]
        self.cluster = cluster
        self.extra = list(extra)
        self.port = port or _pick_port(cluster)
        self.proc = None
        self.frozen = False
        self.start()

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def start(self, timeout_s=15.0):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file",
                     os.path.join(self.dir, "nodes-%d.conf" % self.port),
                     "--cluster-node-timeout", "1000", "--repl-diskless-sync-delay", "0"]
        self.log = open(os.path.join(self.dir, "redis-%d.log" % self.port), "ab")
        self.proc = subprocess.Popen(args + self.extra, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        def up():
            if self.proc.poll() is not None:
                raise AssertionError("redis-server on port %d exited" % self.port)
            return self.cli("PING") == "PONG"
        wait_until(up, "redis-server on port %d" % self.port, timeout_s=timeout_s)

    def cli(self, *args):
        return cli(self.port, *args, password=self.password)

    def freeze(self):
        self.proc.send_signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)
        self.frozen = False

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            if self.frozen:
                self.thaw()
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def restart(self):
        """Starts again on the same port (redis-server reuses it at once;
        a start that lost a race for it is retried)."""
        self.kill9()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.start(timeout_s=2.0)
                return
            except AssertionError:
                if self.proc.poll() is None or time.monotonic() > deadline:
                    raise
                self.log.close()
                time.sleep(0.01)

    def close(self):
        self.kill9()
        if not self.cluster:
            shutil.rmtree(self.dir, ignore_errors=True)


class RedisCluster:
    def __init__(self, masters=3, replicas=0):
        self.dir = tempfile.mkdtemp(prefix="plancache-cluster-")
        self.nodes = []
        try:
            for _ in range(masters * (1 + replicas)):
                self.nodes.append(RedisServer(cluster=True, workdir=self.dir))
            create = ["redis-cli", "--cluster", "create"]
            create += ["127.0.0.1:%d" % n.port for n in self.nodes]
            create += ["--cluster-replicas", str(replicas), "--cluster-yes"]
            out = subprocess.run(create, capture_output=True, timeout=60)
            if out.returncode != 0:
                raise AssertionError("cluster create failed: %r" % out.stdout[-2000:])
            self.wait_ok()
            if replicas:
                self.wait_replicas_synced()
        except BaseException:
            self.close()
            raise

    @property
    def url(self):
        return "redis://" + ",".join("127.0.0.1:%d" % n.port for n in self.nodes[:3])

    def alive(self):
        return [n for n in self.nodes if n.proc.poll() is None]

    def wait_ok(self, timeout_s=30.0):
        def ok():
            for n in self.alive():
                if "cluster_state:ok" not in n.cli("CLUSTER", "INFO"):
                    return False
            return True
        wait_until(ok, "cluster_state:ok on every live node", timeout_s)

    def wait_replicas_synced(self, timeout_s=30.0):
        """Every replica's link to its master is up (else it cannot take over)."""
        def synced():
            for port, (_, role) in self.node_ids().items():
                if role == "replica" and "master_link_status:up" not in cli(port, "INFO",
                                                                            "replication"):
                    return False
            return True
        wait_until(synced, "replicas synced with their masters", timeout_s)

    def node_ids(self):
        """{port: (id, role)} from CLUSTER NODES, as a live node sees it."""
        out = {}
        for line in self.alive()[0].cli("CLUSTER", "NODES").splitlines():
            parts = line.split()
            port = int(parts[1].split("@")[0].split(":")[1])
            role = "master" if "master" in parts[2] else "replica"
            if "fail" in parts[2]:
                role += ",fail"
            out[port] = (parts[0], role)
        return out

    def masters(self):
        return [p for p, (_, role) in self.node_ids().items() if role == "master"]

    def reshard(self, from_port, to_port, slots):
        ids = self.node_ids()
        out = subprocess.run(
            ["redis-cli", "--cluster", "reshard", "127.0.0.1:%d" % from_port,
             "--cluster-from", ids[from_port][0], "--cluster-to", ids[to_port][0],
             "--cluster-slots", str(slots), "--cluster-yes", "--cluster-pipeline", "100"],
            capture_output=True, timeout=120)
        if out.returncode != 0:
            raise AssertionError("reshard failed: %r" % out.stdout[-2000:])

    def kill_master(self, port):
        """Kills a master and waits until a replica took its slots over."""
        for n in self.nodes:
            if n.port == port:
                n.kill9()
        wait_until(lambda: port not in self.masters() and len(self.masters()) == 3,
                   "a replica promoted in place of %d" % port, timeout_s=30.0)
        self.wait_ok()

    def close(self):
        for n in self.nodes:
            n.close()
        shutil.rmtree(self.dir, ignore_errors=True)
