"""Tiny random-initialised T5 and Llama backbones with a word-level tokenizer.

TEST FIXTURES, not models: their scores mean nothing. They let the test suite run
every head and objective through both model families on a CPU in seconds, without
downloading anything. Real runs use ``harness.backbones.load_backbone``.
"""

from __future__ import annotations

import re

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

from harness.backbones.base import Backbone, wrap

SPECIAL = ("<pad>", "</s>", "<unk>")


def word_tokenizer(texts=()) -> PreTrainedTokenizerFast:
    """Word-level tokenizer over the words of ``texts`` plus Yes/No and the prompt template's words."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    from harness.prompts import PromptTemplate

    seed_text = " ".join(
        [*texts, "Yes No a an user male female adult teen", PromptTemplate().instruction, PromptTemplate().body, "none"]
    )
    words = sorted(set(re.findall(r"\w+|[^\w\s]", seed_text)))
    vocab = {token: i for i, token in enumerate([*SPECIAL, *words])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def tiny_t5(texts=(), seed: int = 0, d_model: int = 32) -> Backbone:
    tokenizer = word_tokenizer(texts)
    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=d_model,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    return wrap("tiny-t5 (test fixture)", T5ForConditionalGeneration(config), tokenizer)


def tiny_llama(texts=(), seed: int = 0, hidden_size: int = 32) -> Backbone:
    tokenizer = word_tokenizer(texts)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
    )
    return wrap("tiny-llama (test fixture)", LlamaForCausalLM(config), tokenizer)
