"""What made a report's records, in a few lines for its page: their count, the sweeps' commands
and search-space files, commits, machines, devices, dates and package versions."""

from __future__ import annotations


def provenance_summary(trials) -> dict:
    """What made the reported records, in a few lines: their count, commits, machines,
    devices, dates and package versions (each distinct value once, so a mix shows)."""
    provenance = [r.provenance or {} for r in trials.records.values()]

    def distinct(values) -> str:
        values = sorted({str(v) for v in values if v not in (None, "")})
        return "; ".join(values) if values else "not recorded"

    machines = [(p.get("machine") or {}) for p in provenance]
    packages = sorted(
        {f"{name} {version}" for p in provenance for name, version in (p.get("packages") or {}).items() if version}
    )
    dates = sorted(p.get("date_utc") for p in provenance if p.get("date_utc"))
    return {
        "experiment": trials.experiment,
        "records reported": f"{len(trials.records)} ok (excluded: {len(trials.excluded)})",
        # the sweep's command line and search-space files (records made since commit 023908e name them)
        "commands": distinct(r.job.command for r in trials.records.values()),
        "search-space files": distinct(
            ", ".join(r.job.space) if r.job.space else None for r in trials.records.values()
        ),
        "backbones": distinct(r.job.backbone for r in trials.records.values()),
        "git commits": distinct(p.get("git_commit") for p in provenance),
        "machines": distinct(
            m.get("cpu_model") or (f"{m['processor']} (CPU model not recorded)" if m.get("processor") else None)
            for m in machines
        ),
        "torch CPU capability": distinct(m.get("torch_cpu_capability") for m in machines),
        "devices": distinct(r.device for r in trials.records.values()),
        "dates (UTC)": f"{dates[0]} to {dates[-1]}" if dates else "not recorded",
        "packages": "; ".join(packages) or "not recorded",
    }
