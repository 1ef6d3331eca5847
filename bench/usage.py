"""What one load run cost: the CPU of the server, of each worker, of the load
generator and of the rest of the machine, and the server's peak memory."""

from __future__ import annotations

import os
from typing import Any

from servers import Server, machine_busy_seconds


def _own_cpu_seconds() -> float:
    """CPU time of this process and of the children it has waited for (the
    load generators)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _shares(amounts: list[float]) -> list[float]:
    """Each amount as a fraction of their sum, largest first."""
    total = sum(amounts)
    if total <= 0:
        return []
    return sorted((round(amount / total, 3) for amount in amounts), reverse=True)


class Usage:
    """The counters as a run starts; figures() are what the run added to them."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peaks_reset = server.reset_peaks()
        self.server_cpu = server.cpu_seconds()
        self.worker_cpu = server.worker_cpu_seconds()
        self.machine_cpu = machine_busy_seconds()
        self.own_cpu = _own_cpu_seconds()

    def figures(self, *, requests: int, duration_s: float) -> dict[str, Any]:
        """The run's share of the CPU and its peak memory, for its record."""
        peak = self.server.memory_peak()
        server_cpu = self.server.cpu_seconds() - self.server_cpu
        worker_cpu = [
            seconds - self.worker_cpu.get(pid, 0.0)
            for pid, seconds in self.server.worker_cpu_seconds().items()
        ]
        own_cpu = _own_cpu_seconds() - self.own_cpu
        # What the rest of the machine used meanwhile: a busy machine skews figures.
        other_cpu = max(
            0.0, machine_busy_seconds() - self.machine_cpu - server_cpu - own_cpu
        )
        capacity = (os.cpu_count() or 1) * max(duration_s, 0.001)
        return {
            "server_cpu_us_per_request": round(server_cpu * 1e6 / max(requests, 1), 1),
            "generator_cpu_share": round(own_cpu / capacity, 3),
            "other_cpu_share": round(other_cpu / capacity, 3),
            "worker_cpu_shares": _shares(worker_cpu),
            "rss": {
                "workers_kib": peak.workers_kib,
                "max_worker_kib": peak.max_worker_kib,
                "supervisor_kib": peak.supervisor_kib,
                "total_kib": peak.total_kib,
                "peak_is_per_run": self.peaks_reset,
            },
        }
