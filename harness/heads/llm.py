"""The frozen pretrained model with no head (the paper's Table 2 "LLM" row):
nothing trains; evaluation scores the model as it is."""

from dataclasses import dataclass

from harness.heads.base import Head, HeadSpec, register


@dataclass(frozen=True)
class NoOptions:
    pass


class FrozenHead(Head):
    pass


SPEC = register(HeadSpec(
    name="llm", head_cls=FrozenHead, config_cls=NoOptions, family="none", objectives=(),
    description="the frozen LLM, untrained (Table 2)",
))
