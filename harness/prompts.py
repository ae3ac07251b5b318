"""The paper's recommendation prompt (§4.1.4) and its stereotype settings (§2.3.3, §3.2).

Settings:
- ``implicit``: titles only; the model must infer the user's group.
- ``explicit``: the user's real group stated in the instruction.
- ``counterfactual``: the group flipped (two groups: the other one; more groups:
  the next one in the data set's order).
- multi-stereotype prompts (§3.2, Eq. 5): one prompt per group with that group
  word inserted, used only by the MoS router, never as the model's input.

Choice: explicit and counterfactual state the profile with the same template the
paper shows for multi-stereotype prompting ("Given a female user's interaction
history, identify whether this female user will like the target item."), so the
three settings differ only in the group word. ``PromptTemplate`` holds the wording;
pass another one to use e.g. a separate profile sentence instead.

Truncation: when a prompt exceeds the token budget, the oldest history items are
dropped first (likes and dislikes alike); the target is never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Setting = Literal["implicit", "explicit", "counterfactual"]
SETTINGS: tuple[str, ...] = ("implicit", "explicit", "counterfactual")


def _article(word: str) -> str:
    # 'u' left out on purpose: "a user", "a unisex..." sound like "you"
    return "an" if word[:1].lower() in "aeio" else "a"


@dataclass(frozen=True)
class PromptTemplate:
    instruction: str = (
        "[Instruction] Given {a_user}'s interaction history, identify whether this {user} will like the target item."
    )
    body: str = "[Input]\nUser likes: {likes}\nUser dislikes: {dislikes}\nTarget item: {target}"
    empty: str = "none"  # shown when a history holds no liked (or disliked) item
    separator: str = ", "
    answer_cue: str = ""  # appended after the target, e.g. "\nAnswer:" for causal LMs

    def instruction_for(self, group_word: str | None) -> str:
        user = f"{group_word} user" if group_word else "user"
        return self.instruction.format(a_user=f"{_article(user)} {user}", user=user)

    def render(self, liked: Sequence[str], disliked: Sequence[str], target: str, group_word: str | None) -> str:
        quote = lambda titles: self.separator.join(f'"{t}"' for t in titles) or self.empty  # noqa: E731
        body = self.body.format(likes=quote(liked), dislikes=quote(disliked), target=f'"{target}"')
        return f"{self.instruction_for(group_word)}\n{body}{self.answer_cue}"


def group_word_for(setting: Setting, user_group: int, group_words: Sequence[str]) -> str | None:
    """The group word a setting puts in the prompt of a user of ``user_group``."""
    if setting == "implicit":
        return None
    if setting == "explicit":
        return group_words[user_group]
    if setting == "counterfactual":
        return group_words[(user_group + 1) % len(group_words)]
    raise ValueError(f"prompt setting must be one of {SETTINGS}, got {setting!r}")


def build_prompt(
    titles: Sequence[str],
    liked: Sequence[bool],
    target: str,
    group_word: str | None,
    template: PromptTemplate = PromptTemplate(),
    count_tokens: Callable[[str], int] | None = None,
    max_tokens: int | None = None,
) -> tuple[str, int]:
    """One prompt, and how many of the oldest history items were dropped to fit.

    titles, liked: the history, oldest first. ``count_tokens`` and ``max_tokens``
    enforce the budget; without them nothing is dropped.
    """
    for dropped in range(len(titles) + 1):
        kept = range(dropped, len(titles))
        text = template.render(
            [titles[i] for i in kept if liked[i]], [titles[i] for i in kept if not liked[i]], target, group_word
        )
        if count_tokens is None or max_tokens is None or count_tokens(text) <= max_tokens:
            return text, dropped
    raise ValueError(
        f"the prompt without any history still has {count_tokens(text)} tokens, over the budget of "
        f"{max_tokens}; raise max_tokens (the target item is never dropped). Prompt: {text[:200]!r}"
    )
