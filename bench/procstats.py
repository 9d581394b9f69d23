"""What a running process uses, read from /proc (Linux): the benchmarks' one copy."""

from __future__ import annotations

import os


def proc_status(pid: int, field: str) -> float:
    """A /proc/PID/status figure in MB (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    return proc_status(pid, "VmRSS")


def cpu_s(pid: int) -> float:
    """CPU time (user + system) a process has used, in seconds."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
