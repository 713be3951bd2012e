"""Tokenizers that work offline.

The ``tiny`` (and ``pocket``) CLAP text towers use a byte-level RoBERTa tokenizer with **no
merges**: its vocabulary is the four RoBERTa specials, the 256 byte-level symbols and ``<mask>``
(261 ids), so it encodes any text without downloading anything. It is the real
``RobertaTokenizer`` class — the one AudioLDM's CLAP uses — with a smaller vocabulary.

Why not ``RobertaTokenizer.from_pretrained("roberta-base")``: offline, transformers 5.x returns an
*empty* tokenizer instead of failing (every text becomes ``[2, 3]``; seen on our machines). We
never trust a tokenizer we did not check: :func:`check_tokenizer` does that.
"""

from __future__ import annotations

import json
from functools import lru_cache

from .errors import ConfigError

__all__ = ["byte_level_roberta_tokenizer", "train_bpe_tokenizer", "check_tokenizer",
           "BYTE_VOCAB_SIZE"]

_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
BYTE_VOCAB_SIZE = 261


@lru_cache(maxsize=4)
def byte_level_roberta_tokenizer(model_max_length: int = 77):
    """A byte-level ``RobertaTokenizer``: 261 ids (<s>=0 <pad>=1 </s>=2 <unk>=3, bytes, <mask>)."""
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import RobertaTokenizer

    vocab = {tok: i for i, tok in enumerate(_SPECIALS)}
    for ch in sorted(ByteLevel.alphabet()):
        vocab[ch] = len(vocab)
    vocab["<mask>"] = len(vocab)
    assert len(vocab) == BYTE_VOCAB_SIZE
    tok = RobertaTokenizer(vocab=vocab, merges=[], model_max_length=model_max_length)
    check_tokenizer(tok, "byte-level RoBERTa tokenizer")
    return tok


def check_tokenizer(tokenizer, what: str) -> None:
    """Refuse a tokenizer that maps different texts to the same ids (e.g. an empty vocabulary)."""
    a = tokenizer("a dog barks")["input_ids"]
    b = tokenizer("rain on a tin roof")["input_ids"]
    if a == b or len(a) <= 2:
        raise ConfigError(
            f"the {what} is broken: different texts give the same token ids {a}. This happens when "
            "a tokenizer is loaded offline from a hub name that is not cached; point the loader "
            "at a local copy of the tokenizer files")


def train_bpe_tokenizer(texts, vocab_size: int = 512, model_max_length: int = 77):
    """A ``RobertaTokenizer`` whose byte-level BPE merges are learned from ``texts``.

    What RoBERTa's own tokenizer is, trained on a small corpus (the pocket world's captions)
    with the ``tokenizers`` library, offline: frequent words become single tokens, so a small
    text tower need not learn to spell. Special ids follow RoBERTa: <s>=0 <pad>=1 </s>=2 <unk>=3.
    """
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(list(texts), vocab_size=vocab_size, min_frequency=2,
                            special_tokens=_SPECIALS + ["<mask>"], show_progress=False)
    vocab = bpe.get_vocab()
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" "))
              for m in json.loads(bpe.to_str())["model"]["merges"]]
    tok = RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=model_max_length)
    check_tokenizer(tok, "BPE tokenizer trained on the captions")
    return tok

