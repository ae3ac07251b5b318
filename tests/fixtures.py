"""Small batches for model tests, built with the tiny test-fixture tokenizer."""

from __future__ import annotations

import torch

from harness.model import Batch

PROMPTS = [
    "[Instruction] Given a user's interaction history, identify whether this user will like the target item.\n"
    '[Input]\nUser likes: "Heat"\nUser dislikes: none\nTarget item: "Casino"',
    "[Instruction] Given a user's interaction history, identify whether this user will like the target item.\n"
    '[Input]\nUser likes: none\nUser dislikes: "Heat", "Casino", "Heat"\nTarget item: "Toy"',
    "Given a user Yes No",
]
WORDS = ("male", "female")
EXTRA_TEXT = ["Heat Casino Toy", *PROMPTS]


def group_prompt(text: str, word: str) -> str:
    return text.replace("a user's", f"a {word} user's").replace("this user", f"this {word} user")


def make_batch(tokenizer, prompts=PROMPTS) -> Batch:
    enc = tokenizer(list(prompts), padding=True, return_tensors="pt")
    groups = [
        tokenizer(
            [group_prompt(p, w) for p in prompts],
            padding="max_length",
            max_length=enc["input_ids"].shape[1] + 4,
            return_tensors="pt",
        )
        for w in WORDS
    ]
    n = len(prompts)
    return Batch(
        input_ids=enc["input_ids"],
        attention_mask=enc["attention_mask"],
        labels=torch.tensor([1, 0, 1][:n]),
        user_group=torch.tensor([0, 1, 1][:n]),
        h=torch.tensor([0.3, 0.1, 0.0][:n]),
        target_in_group=torch.tensor([[1, 0], [0, 1], [0, 0]][:n]).bool(),
        index=torch.arange(n),
        group_input_ids=torch.stack([g["input_ids"] for g in groups]),
        group_attention_mask=torch.stack([g["attention_mask"] for g in groups]),
    )
