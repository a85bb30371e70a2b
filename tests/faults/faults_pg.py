"""A throw-away PostgreSQL instance the fault tests may stop, crash, freeze and exhaust.

Started from the server binaries on this machine (``/usr/lib/postgresql/*/bin``) on a free port
under a temp directory. ``initdb`` refuses to run as root, which CI is, so as root the server runs
as the ``postgres`` user through ``runuser -u postgres --``.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import List, Optional


def server_bin() -> Optional[str]:
    """The newest PostgreSQL server binary directory with an ``initdb``, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _tail(text: object, lines: int = 20) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return "\n".join(str(text or "").strip().splitlines()[-lines:]) or "(empty)"


class Instance:
    """One PostgreSQL server: ``start``, ``stop``, ``crash``, ``freeze``/``thaw``."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="envparity-faults-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = _free_port()
        self.as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        if self.as_root:
            import pwd

            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)
        self.proc: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
        try:
            self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync")
        except BaseException:
            # Nothing of a server that never was may stay behind in the temp directory.
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _cmd(self, tool: str, *args: str) -> List[str]:
        cmd = [os.path.join(self.bindir, tool), *args]
        return ["runuser", "-u", "postgres", "--", *cmd] if self.as_root else cmd

    def _run(self, tool: str, *args: str) -> None:
        """Run a server tool; when it fails, the error carries its stderr (a busy machine must
        not turn into a bare "returned non-zero exit status 1")."""
        cmd = self._cmd(tool, *args)
        try:
            # The limit only keeps a hung tool from stalling the suite; it is no timing bound.
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"{' '.join(cmd)} hung for 600 s: {_tail(e.stderr)}") from None
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} exited {done.returncode}: stderr: {_tail(done.stderr)}; "
                f"stdout: {_tail(done.stdout)}"
            )

    def start(self) -> None:
        log = open(os.path.join(self.root, "server.log"), "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self._cmd(
                "postgres",
                "-D", self.data,
                "-p", str(self.port),
                "-k", self.root,
                "-c", "listen_addresses=127.0.0.1",
                "-c", "max_connections=6",
                "-c", "superuser_reserved_connections=0",
                "-c", "fsync=off",
            ),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        # Wait for as long as the server runs: it starts slowly on a loaded machine, and only
        # its exit (or a hang far past any start) is a failure; then its log is the evidence.
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self._ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start: {_tail(self.log())}")

    def log(self) -> str:
        """The server's log so far."""
        try:
            path = os.path.join(self.root, "server.log")
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError as e:
            return f"(no server log: {e})"

    def _ready(self) -> bool:
        import psycopg

        try:
            psycopg.connect(
                host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                connect_timeout=2,
            ).close()
            return True
        except psycopg.OperationalError:
            return False

    def postmaster_pid(self) -> int:
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def stop(self) -> None:
        """A clean shutdown (what a restart does first)."""
        self._run("pg_ctl", "stop", "-D", self.data, "-m", "fast", "-w")
        if self.proc:
            self.proc.wait(timeout=300)  # a hang guard, not a timing bound

    def crash(self) -> None:
        """kill -9 of the postmaster and every backend: what an OOM kill does."""
        pid = self.postmaster_pid()
        backends = [
            int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == pid
        ]
        for victim in [pid, *backends]:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            self.proc.wait(timeout=300)  # a hang guard, not a timing bound
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(os.path.exists(f"/proc/{b}") for b in backends):
            time.sleep(0.05)
        # A crashed server leaves its pid file; the next start sees the pid is gone.

    def freeze(self) -> None:
        os.kill(self.postmaster_pid(), signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.postmaster_pid(), signal.SIGCONT)
        if self.proc:
            # runuser, like su, stops itself when its child stops: continue it too.
            os.kill(self.proc.pid, signal.SIGCONT)

    def destroy(self) -> None:
        try:
            self.thaw()
        except (OSError, ValueError):
            pass
        try:
            self.crash()
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)
