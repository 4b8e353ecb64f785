"""`autoglm serve` on any model file, started without waiting (tests that watch it load or that
need their own model copy); conftest's server_factory covers the plain stories260K case."""
import pathlib
import signal
import socket
import subprocess
import time

from conftest import BIN


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A started `autoglm serve --model MODEL --port P ARGS...` (a free port picked here)."""

    def __init__(self, model, log_path, *args):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([BIN, "serve", "--model", str(model), "--port", str(self.port), "--threads", "2",
                                      *map(str, args)], stdout=subprocess.DEVNULL, stderr=self._log)

    def log(self):
        return pathlib.Path(self.log_path).read_text(errors="replace")

    def wait_ready(self, timeout=300):
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, f"server exited with {self.proc.returncode}:\n{self.log()}"
            if "ready on http" in self.log():
                return
            time.sleep(0.05)
        raise AssertionError("server did not become ready:\n" + self.log())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
