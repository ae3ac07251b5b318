"""What a refactor must not change: every shipped search space resolves to the same spec,
config ids and run configs as recorded in tests/golden/specs.json, and every committed
trial record keeps its trial key and config id (so a sweep still resumes from it and the
report still finds it). A change that is meant to alter them regenerates the file
(tests/golden/make_golden.py) and reruns the affected committed trials."""

import functools
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "golden"))
from make_golden import golden  # noqa: E402

GOLDEN = json.loads((ROOT / "tests" / "golden" / "specs.json").read_text())
RECORDS = sorted(p for p in (ROOT / "results").glob("*/trials/*.json") if not p.name.endswith(".running.json"))


def test_every_shipped_search_space_resolves_as_recorded():
    now = json.loads(json.dumps(golden(), sort_keys=True, default=str))
    assert sorted(now) == sorted(GOLDEN), "a search space was added or removed: regenerate tests/golden/specs.json"
    for name in GOLDEN:
        for mode in ("spec", "smoke"):
            assert now[name][mode]["spec"] == GOLDEN[name][mode]["spec"], f"{name} ({mode}): the resolved spec changed"
            for arm, expected in GOLDEN[name][mode]["arms"].items():
                assert now[name][mode]["arms"][arm] == expected, (
                    f"{name} ({mode}) {arm}: config id or run config changed"
                )


@functools.cache
def _shipped_specs() -> dict:
    """Experiment name -> the shipped search spaces that write into it: a later study may add arms to an
    earlier study's experiment (study v3's Table 4 rows beside study v2's `mos`), in a file of its own."""
    from harness.space import list_files, load_spec

    specs: dict[str, list] = {}
    for spec in map(load_spec, list_files(ROOT / "search_spaces")):
        specs.setdefault(spec.name, []).append(spec)
    return specs


@pytest.mark.skipif(not RECORDS, reason="no committed trial records")
@pytest.mark.parametrize("path", RECORDS, ids=lambda p: str(p.relative_to(ROOT / "results")))
def test_every_committed_record_keeps_its_key_and_config_id(path):
    """One case per record, so a failure names each record whose settings changed."""
    from harness.records import trial_key

    record = json.loads(path.read_text())
    specs = _shipped_specs().get(record["experiment"])
    assert specs, f"{path}: no shipped search space is named {record['experiment']!r}"
    holding = [spec for spec in specs if record["arm"] in {a.key for a in spec.arms()}]
    assert holding, f"{path}: no search space named {record['experiment']!r} has the arm {record['arm']!r}"
    for spec in holding:  # every file that names the arm must give it the record's id (so each reuses it)
        config_id = spec.config_id(spec.arm(record["arm"]), record["params"])
        assert config_id == record["config_id"], (
            f"{path}: {spec.source} now gives config id {config_id}, the record says {record['config_id']}: "
            "its settings changed since the trial ran (rerun it, or restore the settings)"
        )
    assert trial_key(record["arm"], config_id, record["seed"]) == record["key"] == path.stem


@pytest.mark.skipif(not RECORDS, reason="no committed trial records")
def test_every_committed_record_round_trips_through_the_typed_record():
    """TrialRecord.from_json then to_json gives back each committed file, byte for byte."""
    from harness.records import TrialRecord

    for path in RECORDS:
        text = path.read_text()
        record = TrialRecord.from_json(json.loads(text))
        assert record.key == path.stem and not record.extra, path
        assert json.dumps(record.to_json(), indent=2) == text, f"{path}: the typed record changes its JSON"


def test_a_bookcrossing_id_names_the_label_rule_its_none_stands_for():
    """BookCrossing's default like threshold moved from 5 to 7 after ids existed: a config that leaves it
    None is hashed as 7, so it shares the id of an explicit 7 and never the id a None had when it meant 5
    (an explicit 5); a MovieLens id, whose default never moved, is as it was (None hashed as None)."""
    from harness.config.data import SampleConfig
    from harness.config.run import RunConfig
    from harness.space.spec import config_id_of

    def id_of(dataset, **sample):
        return config_id_of(f"{dataset}/mos", RunConfig(dataset=dataset, sample=SampleConfig(**sample)))

    assert id_of("bookcrossing") == id_of("bookcrossing", like_threshold=7.0)
    assert id_of("bookcrossing") != id_of("bookcrossing", like_threshold=5.0)
    assert id_of("bookcrossing", like_comparison="ge") == id_of(
        "bookcrossing", like_comparison="ge", like_threshold=5.0
    )
    assert id_of("movielens-100k") != id_of("movielens-100k", like_threshold=3.0)  # ids of committed records kept
