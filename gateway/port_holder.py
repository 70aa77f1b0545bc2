"""Whether a TCP port is free, and which process listens on it (from /proc on Linux).

`semgate up` asks before it starts anything: a backend left running on its port (an orphan of a
killed `semgate up`, say) would otherwise answer the readiness checks in place of its own.
"""

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
LISTEN = "0A"  # the TCP state column of /proc/net/tcp
MAX_COMMAND = 200  # characters of a command line quoted in a message


@dataclass(frozen=True)
class PortHolder:
    pid: int
    command: str  # its command line, "" when it cannot be read

    def __str__(self) -> str:
        return f"pid {self.pid}" + (f" ({self.command})" if self.command else "")


def port_taken(host: str, port: int) -> bool:
    """True if binding HOST:PORT fails because something already listens there. Other bind
    errors (an address this machine does not have, say) are left for the server to report."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: connections of an earlier server in TIME_WAIT do not hold the port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def listeners(port: int) -> list[PortHolder] | None:
    """The processes with a socket listening on `port` (any address); None where /proc cannot
    tell (not Linux). Processes whose descriptors we may not read are missing from the list."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None if inodes is None else []
    holders = []
    for proc in PROC.iterdir():
        if proc.name.isdigit() and _holds_any(proc, inodes):
            holders.append(PortHolder(int(proc.name), _command(proc)))
    return holders


def _listening_inodes(port: int) -> set[str] | None:
    tables = [PROC / "net" / name for name in ("tcp", "tcp6")]
    if not any(table.exists() for table in tables):
        return None
    inodes = set()
    for table in tables:
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            # sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            fields = row.split()
            if len(fields) > 9 and fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _holds_any(proc: Path, inodes: set[str]) -> bool:
    wanted = {f"socket:[{inode}]" for inode in inodes}
    try:
        fds = list((proc / "fd").iterdir())
    except OSError:  # gone meanwhile, or not ours to read
        return False
    for fd in fds:
        try:
            if os.readlink(fd) in wanted:
                return True
        except OSError:  # closed meanwhile
            continue
    return False


def _command(proc: Path) -> str:
    try:
        words = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return ""
    command = " ".join(words)  # one line, whatever the arguments held
    return command if len(command) <= MAX_COMMAND else command[: MAX_COMMAND - 3] + "..."
