"""The paper's prompt (§4.1.4), its settings and truncation to a token budget."""

import pytest

from harness.prompts import PromptTemplate, build_prompt, group_word_for

TITLES = ["Old One", "Liked Two", "Disliked Three", "Newest Four"]
LIKED = [True, True, False, True]


def test_implicit_prompt_matches_the_paper():
    text, dropped = build_prompt(TITLES, LIKED, "Target", None)
    assert dropped == 0
    assert text == (
        "[Instruction] Given a user's interaction history, identify whether this user will like the target item.\n"
        "[Input]\n"
        'User likes: "Old One", "Liked Two", "Newest Four"\n'
        'User dislikes: "Disliked Three"\n'
        'Target item: "Target"'
    )


def test_group_words_and_articles():
    t = PromptTemplate()
    assert t.instruction_for("female").startswith("[Instruction] Given a female user's interaction history")
    assert "this female user will like" in t.instruction_for("female")
    assert t.instruction_for("adult").startswith("[Instruction] Given an adult user's")


def test_settings_choose_the_group_word():
    words = ("male", "female")
    assert group_word_for("implicit", 0, words) is None
    assert group_word_for("explicit", 1, words) == "female"
    assert group_word_for("counterfactual", 1, words) == "male"
    assert group_word_for("counterfactual", 0, words) == "female"
    with pytest.raises(ValueError, match="setting"):
        group_word_for("neutral", 0, words)


def test_empty_side_says_none():
    text, _ = build_prompt(["A"], [True], "T", None)
    assert "User dislikes: none" in text


def test_truncation_drops_oldest_first_and_keeps_target():
    count = lambda text: len(text.split())  # noqa: E731  a whitespace tokenizer for the test
    full, _ = build_prompt(TITLES, LIKED, "Target", None)
    text, dropped = build_prompt(TITLES, LIKED, "Target", None, count_tokens=count, max_tokens=count(full) - 1)
    assert dropped == 1 and '"Old One"' not in text and '"Liked Two"' in text and '"Target"' in text
    with pytest.raises(ValueError, match="never dropped"):
        build_prompt(TITLES, LIKED, "Target", None, count_tokens=count, max_tokens=5)
