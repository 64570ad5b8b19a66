"""Ending a process a test started: SIGTERM, a grace period, then SIGKILL; by PID only."""

from __future__ import annotations

import signal
import subprocess


def terminate(process: subprocess.Popen[bytes], *, grace_s: float = 60.0) -> None:
    """Stop ``process`` (SIGTERM, then SIGKILL after ``grace_s``) and close its pipes."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
