"""A real multi-node Ray cluster on one machine: every node is its own
``ray start --block`` process tree (GCS and raylet on the head, a raylet on each
worker), joined over TCP exactly as on a cloud cluster. Its own ports and temp
folders keep it apart from any other Ray on the machine; ``kill`` takes one node
away abruptly (SIGKILL of its whole process tree, as when a spot VM is reclaimed).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

RAY = str(Path(sys.executable).with_name("ray"))
# Declare a dead node after ~3 s of missed health checks instead of Ray's ~30 s default.
FAST_DEATH = json.dumps(
    {"health_check_period_ms": 1000, "health_check_timeout_ms": 1000, "health_check_failure_threshold": 3}
)
HEAD_RESOURCE = "node:__internal_head__"  # the resource Ray puts on the head node only


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class LocalCluster:
    def __init__(self, root: Path, env: dict):
        from ray.util import get_node_ip_address

        self.root, self.env = root, env
        # Ray's socket paths live under --temp-dir and must stay under 108 bytes (AF_UNIX)
        self.temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
        self.port = free_ports(1)[0]
        self.address = f"{get_node_ip_address()}:{self.port}"
        self.nodes: list[subprocess.Popen] = []
        self.logs = []

    def start_head(self) -> subprocess.Popen:
        client, dashboard = free_ports(2)
        return self._start(
            "head",
            [
                "--head",
                "--port",
                str(self.port),
                "--ray-client-server-port",
                str(client),
                "--include-dashboard",
                "false",
                "--dashboard-port",
                str(dashboard),
                "--system-config",
                FAST_DEATH,
            ],
        )

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        agent, grpc, runtime_env, metrics = free_ports(4)
        log = open(self.root / f"{name}.log", "w")  # noqa: SIM115  open for the node's lifetime
        self.logs.append(log)
        node = subprocess.Popen(
            [
                RAY,
                "start",
                "--block",
                "--num-cpus",
                "1",
                "--num-gpus",
                "0",
                "--object-store-memory",
                str(10**8),
                "--temp-dir",
                str(self.temp / name),
                "--dashboard-agent-listen-port",
                str(agent),
                "--dashboard-agent-grpc-port",
                str(grpc),
                "--runtime-env-agent-port",
                str(runtime_env),
                "--metrics-export-port",
                str(metrics),
                *args,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        node.name = name
        self.nodes.append(node)
        return node

    def add_worker(self, name: str = "worker") -> subprocess.Popen:
        return self._start(name, ["--address", self.address])

    def alive_nodes(self, expected: int, timeout: float = 60) -> dict[str, bool]:
        """{node id: is head} once ``expected`` nodes are alive (asked by a throwaway driver)."""
        script = (
            "import json, time, ray\n"
            f"ray.init(address={self.address!r}, logging_level='ERROR')\n"
            f"deadline = time.time() + {timeout}\n"
            "while True:\n"
            "    alive = {n['NodeID']: %r in n['Resources'] for n in ray.nodes() if n['Alive']}\n"
            f"    if len(alive) == {expected} or time.time() > deadline: break\n"
            "    time.sleep(0.5)\n"
            "print(json.dumps(alive))\n" % HEAD_RESOURCE
        )
        exited = [n.name for n in self.nodes if n.poll() is not None]
        assert not exited, f"a node exited: {exited}; see {self.root}/*.log"
        out = subprocess.run(
            [sys.executable, "-c", script], env=self.env, capture_output=True, text=True, timeout=timeout + 30
        )
        assert out.returncode == 0, out.stderr[-2000:]
        alive = json.loads(out.stdout.strip().splitlines()[-1])
        assert len(alive) == expected, f"expected {expected} alive nodes, got {alive}"
        return alive

    @staticmethod
    def processes(node: subprocess.Popen) -> list[psutil.Process]:
        """The node's ``ray start`` process and everything it started (Ray workers start
        their own sessions, so a process group would miss them)."""
        try:
            root = psutil.Process(node.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def running(self, node: subprocess.Popen, title: str) -> bool:
        """Whether a Ray worker process titled ``title`` (e.g. ray::RayTrainWorker) runs on ``node``."""
        for process in self.processes(node):
            try:
                if process.cmdline()[:1] and process.cmdline()[0].startswith(title):
                    return True
            except psutil.Error:
                continue
        return False

    def kill(self, node: subprocess.Popen) -> None:
        for process in self.processes(node):
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.Error:
                continue
        node.wait(timeout=30)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            if node.poll() is None:
                self.kill(node)
        for log in self.logs:
            log.close()
        shutil.rmtree(self.temp, ignore_errors=True)


def wait_for(condition, timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def child_env(**extra) -> dict:
    """This process's environment (with the test fixtures' private data and cache folders)
    for the nodes and the driver: a node's Ray workers inherit its ``ray start``'s environment."""
    return {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled", **extra}
