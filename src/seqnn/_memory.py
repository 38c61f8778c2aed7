"""How much memory this machine can still give: sizes are checked against it before anything is allocated."""

from __future__ import annotations

import os

GiB = 2.0 ** 30


def available_memory() -> int | None:
    """Bytes this process can still allocate, or None where the system does not say.

    The smaller of the system's available memory (Linux ``MemAvailable``, else
    the physical memory) and what a container's memory limit (cgroup v2 or v1)
    leaves.
    """
    found = [n for n in (_meminfo_available(), _cgroup_left()) if n is not None]
    if not found:
        try:
            found.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            return None
    return min(found)


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _cgroup_left() -> int | None:
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),                   # v2
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes",                                   # v1
                          "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit) as f:
                text = f.read().strip()
            if text == "max" or int(text) >= 2 ** 62:          # no limit
                return None
            with open(usage) as f:
                return max(0, int(text) - int(f.read().strip()))
        except (OSError, ValueError):
            continue
    return None


def size(n: float) -> str:
    """Bytes in words: "3.2 GiB", "410 MiB"."""
    for unit, scale in (("TiB", GiB * 1024), ("GiB", GiB), ("MiB", 2.0 ** 20), ("KiB", 1024.0)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"
