"""Who holds an outbox claim, and whether that process still lives.

A sender claims a message before delivering it (a lease, `outbox.claimed_until`) and writes its
identity beside the claim: `host:pid:start`, where `start` is the process's start time in clock
ticks since boot (Linux `/proc/<pid>/stat`), so a pid reused by a newer process is not taken
for the old one. A claim whose holder ran on this machine and is gone (killed during
`monitor digest --send`) is taken over at once instead of waiting out the lease; a claim held
elsewhere, or by a live process, is reported with its holder and its end.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass


def _start_ticks(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process from /proc, or None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    fields = stat.rpartition(")")[2].split()
    return (fields[0], fields[19]) if len(fields) > 19 else None


def this_process() -> str:
    """The identity this process writes beside its claims."""
    info = _start_ticks(os.getpid())
    return f"{socket.gethostname()}:{os.getpid()}:{info[1] if info else ''}"[:200]


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int | None
    start: str

    @classmethod
    def parse(cls, text: str | None) -> Holder | None:
        if not text:
            return None
        host, _, rest = text.partition(":")
        pid_text, _, start = rest.partition(":")
        return cls(host, int(pid_text) if pid_text.isdigit() else None, start)

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}" if self.pid is not None else f"host {self.host}"

    def is_gone(self) -> bool:
        """True only when certain: same machine, and no such process (or a zombie, or a
        newer process under the same pid). A holder elsewhere is never declared gone."""
        if self.pid is None or self.host != socket.gethostname():
            return False
        if self.pid == os.getpid():
            return False  # this very process (another thread or pass): alive
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # alive, owned by another user
        info = _start_ticks(self.pid)
        if info is None:
            return False
        state, start = info
        return state in ("Z", "X") or bool(self.start and start != self.start)
