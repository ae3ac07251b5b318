"""The frozen pretrained model with no head (the paper's Table 2 "LLM" row):
nothing trains; evaluation scores the model as it is. Options: ``NoOptions``."""

from harness.heads.base import Head


class FrozenHead(Head):
    pass
