"""Every head the harness trains or compares: its options (a frozen dataclass, validated on
construction) and its registration, without torch. ``harness.heads`` holds the modules
(``nn.Module``s, one file per method), imported only when a head is built.

A registered head names its ``implementation`` ("module:Class"), the learning-rate
``family`` (§4.1.4), the paper's objectives for it (Table 5), and what it ``provides`` to
objectives (the auxiliary tensors its ``prefix`` returns): an objective that requires
what a head does not provide is refused when a config is built, before any trial runs.
Presets (``tallrec``, ``tallrec_pt``) reuse another head's options with fixed values.
The module docstrings of ``harness.heads`` explain the options.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from harness.registry import Registry, resolve

Family = Literal["prompt", "adapter", "none"]
# paper §4.1.4: Adafactor learning rate by family
DEFAULT_LR: dict[str, float] = {"prompt": 0.5, "adapter": 0.005, "none": 0.0}
GATES = ("switch", "straight_through", "eq7")  # MoS's gate (harness.heads.mos)
ROUTER_INPUTS = ("prompt", "prompt+stereotype", "hidden", "hidden_last")  # what MoS's router reads (ditto)


@dataclass(frozen=True)
class HeadSpec:
    name: str
    implementation: str  # "module:Class" of the nn.Module, imported when the head is built
    config_cls: type
    family: Family  # picks the default learning rate (§4.1.4)
    objectives: tuple[str, ...]  # the paper's learning objectives for this method (Table 5)
    description: str
    provides: tuple[str, ...] = ()  # auxiliary tensors the head returns, which objectives may require
    preset: dict[str, Any] = dataclasses.field(default_factory=dict)  # config values a preset fixes
    base: str | None = None  # for a preset: the head it configures

    @property
    def head_cls(self) -> type:
        cls: type = resolve(self.implementation)
        return cls


def validate_config(spec: HeadSpec, values: dict[str, Any]) -> Any:
    """The head's config from ``values`` over the preset; unknown keys name the valid ones."""
    known = {f.name for f in dataclasses.fields(spec.config_cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"head {spec.name!r}: unknown option(s) {unknown}; valid: {sorted(known)}")
    fixed = {k: v for k, v in values.items() if k in spec.preset and v != spec.preset[k]}
    if fixed:
        raise ValueError(
            f"head {spec.name!r} is a preset that fixes {sorted(fixed)}; use head {spec.base!r} to change them"
        )
    return spec.config_cls(**{**spec.preset, **values})


HEADS: Registry[HeadSpec] = Registry("head", check=lambda name, spec: validate_config(spec, spec.preset))


def register(spec: HeadSpec) -> HeadSpec:
    return HEADS.register(spec.name, spec)


def get_head(name: str) -> HeadSpec:
    return HEADS.get(name)


def list_heads() -> list[HeadSpec]:
    return [HEADS[name] for name in sorted(HEADS)]


# ---- options ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoOptions:
    pass


@dataclass(frozen=True)
class PromptTuningOptions:
    num_virtual_tokens: int = 20  # soft prompt length per submodule
    decoder_prompt: bool = True  # seq2seq: also before the decoder (peft's default)
    init: Literal["sample_vocab", "random"] = "sample_vocab"  # Lester et al.: vocabulary init trains better

    def __post_init__(self) -> None:
        if self.num_virtual_tokens < 1:
            raise ValueError(f"num_virtual_tokens must be >= 1, got {self.num_virtual_tokens}")
        if self.init not in ("sample_vocab", "random"):
            raise ValueError(f"init must be 'sample_vocab' or 'random', got {self.init!r}")


@dataclass(frozen=True)
class PTuningOptions:
    num_virtual_tokens: int = 20  # per submodule
    encoder_hidden_size: int = 128  # the prompt encoder's hidden width
    encoder: Literal["MLP", "LSTM"] = "MLP"
    decoder_prompt: bool = True  # seq2seq: also before the decoder (peft's default)

    def __post_init__(self) -> None:
        if self.num_virtual_tokens < 1 or self.encoder_hidden_size < 1:
            raise ValueError(
                f"num_virtual_tokens and encoder_hidden_size must be >= 1, "
                f"got {self.num_virtual_tokens}, {self.encoder_hidden_size}"
            )
        if self.encoder not in ("MLP", "LSTM"):
            raise ValueError(f"encoder must be 'MLP' or 'LSTM', got {self.encoder!r}")


@dataclass(frozen=True)
class LoraOptions:
    r: int = 8  # rank
    alpha: int = 16  # scaling numerator (scale = alpha / r)
    dropout: float = 0.05  # on the adapter's input
    target_modules: tuple[str, ...] | None = None  # None: q and v projections of the backbone family

    def __post_init__(self) -> None:
        if self.r < 1 or self.alpha <= 0:
            raise ValueError(f"r must be >= 1 and alpha > 0, got r={self.r}, alpha={self.alpha}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class MoSOptions:
    n_experts: int = 4  # §4.1.4
    expert_tokens: int = 5  # soft prompt length of each expert (§4.1.4)
    top_k: int = 1  # Eq. 7; top-1 is the paper's best (Table 6)
    routing: Literal["topk", "stochastic"] = "topk"  # Table 6's "stochastic" variant
    gate: Literal["switch", "straight_through", "eq7"] = "switch"  # chosen experts' values (harness.heads.mos)
    router_input: Literal["prompt", "prompt+stereotype", "hidden", "hidden_last"] = "prompt"  # what Q reads
    reweighting: bool = True  # Eq. 8; False = Table 6 "w/o reweighting"
    reweight_activation: Literal["none", "softmax"] = "none"
    expert: Literal["prompt", "conditioned"] = "prompt"  # harness.heads.mos
    expert_rank: int = 8  # rank of the conditioned experts' map
    decoder_prompt: bool = False  # seq2seq: mixed prompt before the decoder too
    init: Literal["sample_vocab", "random"] = "sample_vocab"

    def __post_init__(self) -> None:
        if self.n_experts < 2:
            raise ValueError(f"n_experts must be >= 2, got {self.n_experts}")
        if not 1 <= self.top_k <= self.n_experts:
            raise ValueError(f"top_k must be in [1, n_experts={self.n_experts}], got {self.top_k}")
        if self.expert_tokens < 1 or self.expert_rank < 1:
            raise ValueError(
                f"expert_tokens and expert_rank must be >= 1, got {self.expert_tokens}, {self.expert_rank}"
            )
        for key, allowed in (
            ("routing", ("topk", "stochastic")),
            ("gate", GATES),
            ("router_input", ROUTER_INPUTS),
            ("reweight_activation", ("none", "softmax")),
            ("expert", ("prompt", "conditioned")),
            ("init", ("sample_vocab", "random")),
        ):
            if getattr(self, key) not in allowed:
                raise ValueError(f"{key} must be one of {allowed}, got {getattr(self, key)!r}")


# ---- the heads ----------------------------------------------------------------------------------

register(HeadSpec("llm", "harness.heads.llm:FrozenHead", NoOptions, "none", (), "the frozen LLM, untrained (Table 2)"))
register(
    HeadSpec(
        "prompt_tuning",
        "harness.heads.prompt_tuning:PromptTuningHead",
        PromptTuningOptions,
        "prompt",
        ("rec", "sf"),
        "soft prompt before the input (Lester et al.); Table 5 with L_rec + L_fair",
    )
)
register(
    HeadSpec(
        "p_tuning",
        "harness.heads.p_tuning:PTuningHead",
        PTuningOptions,
        "prompt",
        ("rec", "sf"),
        "prompt encoder (Liu et al.); Table 5 with L_rec + L_fair",
    )
)
register(
    HeadSpec(
        "lora",
        "harness.heads.lora:LoraHead",
        LoraOptions,
        "adapter",
        ("rec", "sf"),
        "LoRA adapters (Hu et al.); Table 5 with L_rec + L_fair",
    )
)
register(
    HeadSpec(
        "mos",
        "harness.heads.mos:MoSHead",
        MoSOptions,
        "prompt",
        ("rec", "sf", "div"),
        "Mixture-of-Stereotypes (the paper's method); L = L_rec + L_fair + L_div",
        provides=("routing", "weights", "experts", "router_logits"),
    )
)
register(
    HeadSpec(
        "tallrec",
        "harness.heads.lora:LoraHead",
        LoraOptions,
        "adapter",
        ("rec",),
        "TALLRec: LoRA r=8 alpha=16 dropout=0.05 on q,v; L_rec only",
        base="lora",
        preset={"r": 8, "alpha": 16, "dropout": 0.05},
    )
)
register(
    HeadSpec(
        "tallrec_pt",
        "harness.heads.prompt_tuning:PromptTuningHead",
        PromptTuningOptions,
        "prompt",
        ("rec",),
        "TALLRec-- : prompt tuning, L_rec only",
        base="prompt_tuning",
    )
)
