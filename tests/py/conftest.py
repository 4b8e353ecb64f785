"""Shared fixtures for the HTTP server tests (test_server*.py): start the real `autoglm serve`."""
import json
import os
import pathlib
import re
import signal
import subprocess
import time

import pytest

BIN = os.environ.get("AUTOGLM_BIN", "")
MODELS = pathlib.Path(os.environ.get("AUTOGLM_SHARED_MODELS", pathlib.Path(__file__).parents[3] / "shared" / "models"))
STORIES = MODELS / "stories260K" / "stories260K.gguf"


class ServerProcess:
    """A running `autoglm serve` on a free loopback port (--port 0; the port is read from its log)."""

    def __init__(self, args, log_path):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([BIN, "serve", "--model", str(STORIES), "--port", "0", *map(str, args)],
                                     stdout=subprocess.DEVNULL, stderr=self._log)
        self.port = None
        deadline = time.time() + 60
        while time.time() < deadline:
            m = re.search(r"ready on http://[^:]+:(\d+)", self.log())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"autoglm serve exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.05)
        if self.port is None:
            self.proc.kill()
            raise RuntimeError("autoglm serve did not become ready:\n" + self.log())
        self.url = f"http://127.0.0.1:{self.port}"

    def log(self):
        return pathlib.Path(self.log_path).read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def server_factory(tmp_path_factory):
    """start(*extra_args) -> ServerProcess; all are stopped (SIGTERM) at the end of the module."""
    if not BIN or not os.path.exists(BIN):
        pytest.skip("AUTOGLM_BIN not built")
    if not STORIES.exists():
        pytest.skip(f"{STORIES} missing")
    started = []

    def start(*args):
        s = ServerProcess(args, tmp_path_factory.mktemp("serve") / "server.log")
        started.append(s)
        return s

    yield start
    for s in started:
        rc = s.stop()
        assert rc == 0, f"server exited with {rc}:\n{s.log()}"


def sse_events(lines):
    """Data payloads of an SSE stream given its text lines; '[DONE]' is returned as the string."""
    out = []
    for line in lines:
        if isinstance(line, bytes):
            line = line.decode()
        if line.startswith("data: "):
            data = line[len("data: "):]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def metric(text, name):
    """Value of an unlabelled Prometheus sample in /metrics text."""
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert m, f"{name} missing from /metrics"
    return float(m.group(1))
