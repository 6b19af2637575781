# SPDX-License-Identifier: GPL-3.0-or-later
"""A tiny random language model with a real byte-level BPE tokenizer.

Built in about a second from a config, it exercises the whole LM coding path
(tests, examples without the 135M model). It compresses nothing well: its
predictions are random, which is exactly what round-trip tests need.
"""

from __future__ import annotations

from .models.base import NumericSettings
from .models.hf import LanguageModel, from_modules

_TRAINING_TEXT = (
    "The quick brown fox jumps over the lazy dog. Language models predict the next token; "
    "an arithmetic coder turns those predictions into bits. Radio links carry the bits. "
    "GNU Radio blocks pass messages as PDUs.\n"
)


def tiny_tokenizer(vocab_size: int = 400):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte is codable
        show_progress=False,
    )
    tok.train_from_iterator([_TRAINING_TEXT] * 4, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>")


def tiny_model(seed: int = 0, settings: NumericSettings | None = None, layers: int = 2) -> LanguageModel:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = tiny_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=8192,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    return from_modules(model, tokenizer, f"tiny-llama-seed{seed}", settings)
