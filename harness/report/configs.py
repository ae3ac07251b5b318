"""Which configuration of an arm a report shows: the selection the sweep recorded in the arm's
records (its rule and metrics), the configurations it picks from the arm's search records, and
one replicated configuration per arm for the table (a trade-off's others go to pareto.md)."""

from __future__ import annotations

import numpy as np

from harness.config.sweep import Selection


def recorded_selection(records, default: Selection) -> Selection:
    """The sweep's selection for one arm, as its records carry it: the newest replication
    record's (the rule the arm was last replicated under), else the newest search record's;
    ``default`` for records from before the sweep wrote it, or one this version refuses."""
    carrying = sorted(
        (r for r in records if r.job.selection),
        key=lambda r: (r.job.phase == "replicate", (r.provenance or {}).get("date_utc", ""), r.key),
    )
    if not carrying:
        return default
    s = carrying[-1].job.selection
    try:
        return Selection(
            tuple(s["metrics"]),
            tuple(s["modes"]),
            s.get("rule") or default.rule,
            s.get("best"),
            dict(s.get("bounds") or {}),
            int(s.get("min_support") or default.min_support),
        )
    except (KeyError, TypeError, ValueError):
        return default


def chosen_configs(search: list, selection: Selection) -> set:
    """The configuration ids ``selection`` picks from an arm's ok search records."""
    return {search[i].job.config_id for i in selection.choose([r.metrics for r in search])}


def one_config_per_arm(ok: dict, records: list) -> tuple[dict, list]:
    """Keep, per arm, one configuration: one the sweep's recorded rule selects from the arm's
    search records before one it does not (a YAML edited between runs leaves older replication
    records beside the new ones), then the most seeds, then the best on the rule's first metric
    (validation AUC unless the YAML chose another; an SF on too little support is undefined),
    then the first by id. List the others, except the configurations a multi-metric search
    replicated as its trade-off (pareto.md shows those)."""
    by_arm: dict[str, dict[str, list]] = {}
    for key, r in ok.items():
        by_arm.setdefault(r.job.arm, {}).setdefault(r.job.config_id, []).append(key)
    keep, dropped = {}, []
    for arm, configs in by_arm.items():
        mine = [r for r in records if r.job.arm == arm]
        search = [r for r in mine if r.job.phase == "search" and r.ok]
        selection = recorded_selection(mine, Selection())
        chosen = chosen_configs(search, selection)
        first = {r.job.config_id: selection.values(r.metrics)[0] for r in search}
        sign = 1.0 if selection.modes[0] == "max" else -1.0
        order = sorted(configs)
        shown = max(
            order,
            key=lambda c: (
                c in chosen,
                len(configs[c]),
                -np.inf if first.get(c) is None else sign * first[c],
                -order.index(c),
            ),
        )
        for config_id, keys in configs.items():
            for key in keys:
                if config_id == shown:
                    keep[key] = ok[key]
                elif not selection.several:
                    dropped.append(
                        f"{key}: ok but configuration {config_id} is not the arm's reported "
                        f"one ({shown}" + (", the one its selection picks)" if shown in chosen else ", most seeds)")
                    )
    return keep, dropped
