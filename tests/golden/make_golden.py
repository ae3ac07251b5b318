"""Writes tests/golden/specs.json: every shipped search space's resolved spec, each arm's
config id and resolved run config (seed 0), with and without --smoke. Run it only when a
change is meant to alter them (then every affected committed record must be rerun):

    python tests/golden/make_golden.py
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def resolved(path: Path) -> dict:
    from harness.space import load_spec

    out = {}
    for smoke in (False, True):
        spec = load_spec(path, smoke=smoke)
        out["smoke" if smoke else "spec"] = {
            "spec": {k: v for k, v in spec.to_dict().items() if k not in ("source", "files")},
            "arms": {
                arm.key: {
                    "config_id": spec.config_id(arm, {}),
                    "run_config": spec.run_config(arm, {}, spec.seeds[0]).to_dict(),
                }
                for arm in spec.arms()
            },
        }
    return out


def golden() -> dict:
    from harness.space import list_files

    return {p.name: resolved(p) for p in list_files(ROOT / "search_spaces")}


if __name__ == "__main__":
    text = json.dumps(golden(), indent=1, sort_keys=True, default=str)
    (Path(__file__).parent / "specs.json").write_text(text + "\n")
