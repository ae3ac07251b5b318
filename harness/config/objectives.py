"""Every learning objective of L = L_rec + sum_k lambda_k L_k (Eq. 14, Table 4): its options
(a frozen dataclass, validated on construction) and its registration, without torch.
``harness.objectives`` holds the losses, imported only when an objective is built.

An options class may say what it ``requires`` from the head (``HeadSpec.provides``): a
config whose head does not provide it is refused when it is built (``check_head``), so a
mismatch (``div`` on a head without experts) never reaches a trial.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from harness.config.heads import HEADS, get_head
from harness.registry import Registry, resolve

FORMS = ("divergence", "snsr", "snsv")  # FaiRLLM's term (harness.objectives.fairllm)
PAIRINGS = ("sample", "batch")
ADVERSARIES = ("negative_ce", "uniform", "prior")  # UP5's adversary (harness.objectives.up5)


@dataclass(frozen=True)
class ObjectiveSpec:
    name: str
    implementation: str  # "module:Class" of the loss, imported when the objective is built
    config_cls: type
    description: str

    @property
    def cls(self) -> type:
        cls: type = resolve(self.implementation)
        return cls


OBJECTIVES: Registry[ObjectiveSpec] = Registry("objective")


def register(spec: ObjectiveSpec) -> ObjectiveSpec:
    return OBJECTIVES.register(spec.name, spec)


def get_objective(name: str) -> ObjectiveSpec:
    return OBJECTIVES.get(name)


def objective_options(name: str, **options: Any) -> Any:
    """The options of registered objective ``name`` (validated); unknown keys name the valid ones."""
    spec = get_objective(name)
    known = {f.name for f in dataclasses.fields(spec.config_cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"objective {name!r}: unknown option(s) {unknown}; valid: {sorted(known)}")
    return spec.config_cls(**options)


def requires(options: Any) -> tuple[str, ...]:
    """What an objective with these options reads from the head; () for most."""
    needed: tuple[str, ...] = options.requires() if hasattr(options, "requires") else ()
    return needed


def check_head(name: str, options: Any, head: str) -> None:
    """Refuse an objective that requires what the registered head ``head`` does not provide
    (``div`` on a head without experts), naming the heads that would do."""
    needed = requires(options)
    missing = [a for a in needed if a not in get_head(head).provides]
    if missing:
        heads_with = sorted(h for h, s in HEADS.items() if set(needed) <= set(s.provides))
        raise ValueError(
            f"objective {name!r} needs the head's {', '.join(missing)}, which head {head!r} does not "
            f"have (heads that do: {', '.join(heads_with) or 'none'}); drop {name!r} from this arm's "
            "objectives or use one of those heads"
        )


def check_weight(name: str, weight: float) -> None:
    if not weight >= 0:
        raise ValueError(f"objective {name!r}: weight (lambda) must be >= 0, got {weight}")


# ---- options ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecOptions:
    weight: float = 1.0

    def __post_init__(self) -> None:
        check_weight("rec", self.weight)


@dataclass(frozen=True)
class SFOptions:
    weight: float = 1.0  # lambda_fair (paper: 1)
    reduce: Literal["overall", "per_group"] = "overall"
    denominator: Literal["all", "group_users"] = "all"  # as harness.metrics.stereotype_fairness

    def __post_init__(self) -> None:
        check_weight("sf", self.weight)
        if self.reduce not in ("overall", "per_group") or self.denominator not in ("all", "group_users"):
            raise ValueError(
                f"sf: reduce must be overall|per_group and denominator all|group_users, "
                f"got {self.reduce!r}, {self.denominator!r}"
            )


@dataclass(frozen=True)
class DivOptions:
    weight: float = 1.0  # lambda_div (paper: 1)
    target: Literal["experts", "routing"] = "experts"

    def __post_init__(self) -> None:
        check_weight("div", self.weight)
        if self.target not in ("experts", "routing"):
            raise ValueError(f"div: target must be 'experts' or 'routing', got {self.target!r}")

    def requires(self) -> tuple[str, ...]:
        """What it reads from the head (``HeadSpec.provides``): the experts, or the routing weights."""
        return ("experts",) if self.target == "experts" else ("weights",)


@dataclass(frozen=True)
class BalanceOptions:
    weight: float = 0.01  # lambda_balance; Switch Transformer's alpha (the paper has no such term)

    def __post_init__(self) -> None:
        check_weight("balance", self.weight)

    def requires(self) -> tuple[str, ...]:
        """The router's logits (for P) and its choices (for f) (harness.objectives.balance)."""
        return ("routing", "router_logits")


@dataclass(frozen=True)
class IFairLRSOptions:
    weight: float = 1.0  # exponent on the ratio: 1 = IFairLRS, 0 = plain L_rec
    max_weight: float = 10.0  # cap on r_k before normalising (inf: no cap)
    normalize: bool = True  # training-mean weight 1, so L_rec keeps its scale

    def __post_init__(self) -> None:
        check_weight("ifairlrs", self.weight)
        if not self.max_weight > 0:
            raise ValueError(f"ifairlrs: max_weight must be > 0, got {self.max_weight}")


@dataclass(frozen=True)
class UP5Options:
    weight: float = 1.0  # lambda of the adversarial term
    adversary: Literal["negative_ce", "uniform", "prior"] = "negative_ce"
    disc_lr: float = 1e-3  # the discriminator's Adam learning rate
    disc_hidden: int = 256  # hidden width of the discriminator MLP
    disc_steps: int = 1  # discriminator updates per training batch

    def __post_init__(self) -> None:
        check_weight("up5", self.weight)
        if self.adversary not in ADVERSARIES:
            raise ValueError(f"up5: adversary must be one of {ADVERSARIES}, got {self.adversary!r}")
        for key in ("disc_lr", "disc_hidden", "disc_steps"):
            if not getattr(self, key) > 0:
                raise ValueError(f"up5: {key} must be > 0, got {getattr(self, key)}")


@dataclass(frozen=True)
class FaiRLLMOptions:
    weight: float = 1.0  # lambda of the term
    form: Literal["divergence", "snsr", "snsv"] = "divergence"  # harness.objectives.fairllm
    pairing: Literal["sample", "batch"] = "sample"

    def __post_init__(self) -> None:
        check_weight("fairllm", self.weight)
        if self.form not in FORMS:
            raise ValueError(f"fairllm: form must be one of {FORMS}, got {self.form!r}")
        if self.pairing not in PAIRINGS:
            raise ValueError(f"fairllm: pairing must be one of {PAIRINGS}, got {self.pairing!r}")


# ---- the objectives -----------------------------------------------------------------------------

register(ObjectiveSpec("rec", "harness.objectives.rec:RecLoss", RecOptions, "L_rec, Eq. 11"))
register(
    ObjectiveSpec("sf", "harness.objectives.sf:SFLoss", SFOptions, "L_fair: |SF| with soft recommendations, Eq. 12")
)
register(
    ObjectiveSpec("div", "harness.objectives.div:DivLoss", DivOptions, "L_div: expert diversity, Eq. 13 (maximised)")
)
register(
    ObjectiveSpec(
        "balance",
        "harness.objectives.balance:BalanceLoss",
        BalanceOptions,
        "L_balance: Switch-style load balance of MoS's experts over the batch (not the paper's)",
    )
)
register(
    ObjectiveSpec(
        "ifairlrs",
        "harness.objectives.ifairlrs:IFairLRS",
        IFairLRSOptions,
        "IFairLRS: L_rec reweighted by item group history/target share (item-side)",
    )
)
register(
    ObjectiveSpec(
        "up5",
        "harness.objectives.up5:UP5",
        UP5Options,
        "UP5: adversarial group discriminator on pooled encoder states (user-side)",
    )
)
register(
    ObjectiveSpec(
        "fairllm",
        "harness.objectives.fairllm:FaiRLLM",
        FaiRLLMOptions,
        "FaiRLLM: neutral vs sensitive-attribute prompt divergence (SNSR/SNSV) (user-side)",
    )
)
