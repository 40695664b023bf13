"""BERT: a bidirectional Transformer encoder, pre-trained on unlabeled text and then fine-tuned
(Devlin et al., 2018, "Pre-training of Deep Bidirectional Transformers").

The idea: a language model such as GPT reads left to right, so the state at position t knows
only x_<t. BERT drops the causal mask, so every position sees the whole sequence, and makes
that trainable with a cloze task, masked-language modeling (MLM): hide about 15% of the tokens
and predict them from both sides. Of the chosen positions, 80% become [MASK], 10% a random
token and 10% stay as they are, so the encoder cannot rely on [MASK] marking the places to
repair (it never sees [MASK] after pre-training) and must keep a guess of the right token at
every position, including ones that look fine or wrong. The loss covers the chosen positions
only (label -100, cross_entropy's ignore_index, everywhere else).

Then the two-stage recipe that changed NLP: pre-train once on plentiful unlabeled text, then
fine-tune the same encoder, with a small new head on the first token ([CLS], whose state has
attended to the whole sequence), on a labeled task that has few examples. What the encoder
learned about spelling and syntax transfers, so far fewer labels are needed than when
training from scratch (examples/bert_fables.py measures it).

Here at character level: ``BertVocab`` is ``CharVocab`` with [PAD], [CLS], [SEP] and [MASK]
in front. Pre-norm layers with a final LayerNorm by default (trains more stably when small);
``norm_first=False`` gives the paper's post-norm layers with a LayerNorm on the embeddings.
The MLM head's output layer is tied to the token embedding, as in BERT.

Initialization, where a model this small departs from BERT. Masked-token training first
sits on a plateau, the loss of guessing by letter frequency, until attention has learned to
find a position's neighbours; the start decides how long. BERT draws every weight from
N(0, 0.02), a scale made for width 768; at width 64 the embeddings are then tiny next to the
layers' outputs, and on the fables (32 positions) the plateau outlasted 1000 steps. Here
the embeddings start from N(0, 1) (PyTorch's default for ``nn.Embedding``) and the layers
from PyTorch's defaults. And the learned positions start from the Transformer paper's
sinusoids (scaled to unit variance), in which "one step to the left" is the same linear map
at every position, and are trained from there: with random position vectors the plateau
lasted about 900 steps (width 64, 64 positions), with sinusoids about 400. Left out: the
next-sentence task (RoBERTa, 2019, found it unneeded) and the pooler it trained.
"""

import math
from collections.abc import Sequence

from nabla.autograd.grad_mode import no_grad
from nabla.backend import array_module
from nabla.models.char_lm import CharVocab
from nabla.nn.functional.activation import gelu
from nabla.nn.modules.dropout import Dropout
from nabla.nn.modules.linear import Linear
from nabla.nn.modules.module import Module
from nabla.nn.modules.normalization import LayerNorm
from nabla.nn.modules.positional import LearnedPositionalEmbedding, sinusoidal_position_table
from nabla.nn.modules.sparse import Embedding
from nabla.nn.modules.transformer import TransformerEncoder, TransformerEncoderLayer
from nabla.random import numpy_generator
from nabla.tensor import Tensor

__all__ = ["BERT", "BertVocab", "MaskedLMHead", "BertForMaskedLM",
           "BertForSequenceClassification", "mask_tokens", "SPECIAL_TOKENS"]

SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[MASK]")


class BertVocab(CharVocab):
    """The characters of a text after BERT's special tokens: [PAD] = 0, [CLS] = 1, [SEP] = 2,
    [MASK] = 3, then the sorted characters. ``decode`` writes a special token by its name."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.chars = list(SPECIAL_TOKENS) + self.chars
        self.index = {c: i for i, c in enumerate(self.chars)}
        self.pad_id, self.cls_id, self.sep_id, self.mask_id = range(len(SPECIAL_TOKENS))

    @property
    def special_ids(self) -> tuple:
        """The ids of the special tokens (never masked, never drawn as a random token)."""
        return tuple(range(len(SPECIAL_TOKENS)))


def mask_tokens(ids: Tensor, mask_id: int, vocab_size: int, p: float = 0.15, generator=None,
                special_ids: Sequence[int] = (0,)) -> tuple:
    """BERT's corruption for masked-language modeling.

    Each position not holding a special token is chosen with probability ``p``, independently
    (as Hugging Face's collator does; BERT's own code picks round(p * L) positions per
    sequence); a chosen position becomes ``mask_id`` with probability 0.8, a random ordinary
    token (uniform over the ids in [0, vocab_size) that are neither special nor ``mask_id``)
    with probability 0.1, and stays unchanged otherwise.

    Args:
        ids: (N, L) int64 token ids.
        mask_id: the [MASK] token's id.
        vocab_size: V.
        p: the chance that a position is chosen (BERT: 0.15).
        generator: a nabla.Generator for a reproducible draw.
        special_ids: ids that are never chosen nor drawn (default: 0, [PAD] in BertVocab).

    Returns:
        (inputs, labels), both (N, L) int64: the corrupted ids, and the original id at each
        chosen position with -100 (ignored by ``cross_entropy``) everywhere else.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"mask_tokens: p must be in [0, 1], got {p}")
    x = ids._data
    xp = array_module(x)
    rng = numpy_generator(generator)
    special = sorted({int(i) for i in special_ids} | {int(mask_id)})
    ordinary = sorted(set(range(vocab_size)) - set(special))
    if not ordinary:
        raise ValueError(f"mask_tokens: no ordinary token among {vocab_size} ids to draw from")
    chosen = xp.asarray(rng.random(x.shape) < p) & ~xp.isin(x, xp.asarray(special))
    roll = xp.asarray(rng.random(x.shape))
    draw = xp.asarray(ordinary, dtype=x.dtype)[xp.asarray(rng.integers(0, len(ordinary),
                                                                        x.shape))]
    inputs = xp.where(chosen & (roll < 0.8), mask_id, x)
    inputs = xp.where(chosen & (roll >= 0.8) & (roll < 0.9), draw, inputs)
    labels = xp.where(chosen, x, -100)
    return Tensor._make(inputs.astype("int64")), Tensor._make(labels.astype("int64"))


class BERT(Module):
    """Token + learned position (+ segment) embeddings -> ``n_layer`` bidirectional Transformer
    encoder layers (no causal mask) -> LayerNorm (pre-norm).

    Args:
        vocab_size: V.
        max_len: the longest sequence (positions).
        n_layer, n_head, n_embd: depth, attention heads, width E (feed-forward width 4E).
        dropout: on the embeddings, attention weights and layer outputs.
        type_vocab_size: segments (sentence A / B; all A when no token_type_ids are given);
            0 leaves the segment embedding out.
        norm_first: pre-norm layers and a final LayerNorm; False is the paper's post-norm
            with a LayerNorm on the embeddings instead.

    Shape: ``forward(idx (N, L) int64, token_type_ids (N, L), key_padding_mask (N, L) bool,
    True = padding)`` -> hidden states (N, L, E). Token and segment embeddings start from
    N(0, 1), positions from sinusoids of unit variance, the layers from PyTorch's defaults.
    """

    def __init__(self, vocab_size: int, max_len: int = 128, n_layer: int = 4, n_head: int = 4,
                 n_embd: int = 128, dropout: float = 0.1, type_vocab_size: int = 2,
                 norm_first: bool = True) -> None:
        super().__init__()
        self.tok_emb = Embedding(vocab_size, n_embd)
        self.pos_emb = LearnedPositionalEmbedding(max_len, n_embd)
        self.seg_emb = Embedding(type_vocab_size, n_embd) if type_vocab_size else None
        self.emb_norm = None if norm_first else LayerNorm(n_embd)
        self.drop = Dropout(dropout)
        layer = TransformerEncoderLayer(n_embd, n_head, 4 * n_embd, dropout, activation="gelu",
                                        batch_first=True, norm_first=norm_first)
        self.encoder = TransformerEncoder(layer, n_layer,
                                          norm=LayerNorm(n_embd) if norm_first else None,
                                          enable_nested_tensor=False)
        with no_grad():  # learned positions that start as sinusoids: see the module docstring
            self.pos_emb.weight.copy_(sinusoidal_position_table(max_len, n_embd) * math.sqrt(2))

    def forward(self, idx: Tensor, token_type_ids: Tensor | None = None,
                key_padding_mask: Tensor | None = None) -> Tensor:
        x = self.pos_emb(self.tok_emb(idx))
        if self.seg_emb is not None:
            if token_type_ids is None:  # one segment: all of it is sentence A
                token_type_ids = Tensor._make(array_module(idx._data).zeros_like(idx._data))
            x = x + self.seg_emb(token_type_ids)
        elif token_type_ids is not None:
            raise ValueError("BERT: token_type_ids given, but type_vocab_size is 0")
        if self.emb_norm is not None:
            x = self.emb_norm(x)
        return self.encoder(self.drop(x), src_key_padding_mask=key_padding_mask)


class MaskedLMHead(Module):
    """BERT's prediction head: Linear (E -> E), GELU, LayerNorm, then a decoder (E -> V) whose
    weight is the token embedding's (tied: one matrix reads and writes tokens), plus a bias.
    The decoder's input is scaled by 1 / sqrt(E), as T5 does with its tied N(0, 1) embedding:
    unit-variance features against unit-variance rows would give logits of std sqrt(E) at the
    start (a loss of about 13 at width 64 instead of log V).

    Args:
        embedding: the encoder's token embedding, (V, E) weight.

    Shape: (N, L, E) -> logits (N, L, V).
    """

    def __init__(self, embedding: Embedding) -> None:
        super().__init__()
        vocab_size, n_embd = embedding.weight.shape
        self.dense = Linear(n_embd, n_embd)
        self.norm = LayerNorm(n_embd)
        self.decoder = Linear(n_embd, vocab_size)
        self.decoder.weight = embedding.weight
        self.scale = n_embd ** -0.5

    def forward(self, hidden: Tensor) -> Tensor:
        return self.decoder(self.norm(gelu(self.dense(hidden))) * self.scale)


class BertForMaskedLM(Module):
    """``bert`` (a BERT encoder) and ``head`` (a MaskedLMHead tied to its token embedding): the
    pre-training model.

    Args:
        vocab_size: V.
        **kwargs: BERT's other arguments (max_len, n_layer, n_head, n_embd, ...).

    Shape: ``forward(idx (N, L), token_type_ids, key_padding_mask)`` -> logits (N, L, V).
    """

    def __init__(self, vocab_size: int, **kwargs) -> None:
        super().__init__()
        self.bert = BERT(vocab_size, **kwargs)
        self.head = MaskedLMHead(self.bert.tok_emb)

    def forward(self, idx: Tensor, token_type_ids: Tensor | None = None,
                key_padding_mask: Tensor | None = None) -> Tensor:
        return self.head(self.bert(idx, token_type_ids, key_padding_mask))


class BertForSequenceClassification(Module):
    """``bert`` (a BERT encoder), dropout and a linear ``classifier`` on the first position's
    state (the [CLS] token, which has attended to the whole sequence): the fine-tuning model.
    Load pre-trained weights with ``model.bert.load_state_dict(pretrained.bert.state_dict())``.

    Args:
        vocab_size: V.
        num_labels: classes C.
        **kwargs: BERT's other arguments (max_len, n_layer, n_head, n_embd, dropout, ...).

    Shape: ``forward(idx (N, L), token_type_ids, key_padding_mask)`` -> logits (N, C); idx[:, 0]
    should be [CLS].
    """

    def __init__(self, vocab_size: int, num_labels: int = 2, **kwargs) -> None:
        super().__init__()
        self.bert = BERT(vocab_size, **kwargs)
        n_embd = self.bert.tok_emb.embedding_dim
        self.dropout = Dropout(kwargs.get("dropout", 0.1))
        self.classifier = Linear(n_embd, num_labels)

    def forward(self, idx: Tensor, token_type_ids: Tensor | None = None,
                key_padding_mask: Tensor | None = None) -> Tensor:
        hidden = self.bert(idx, token_type_ids, key_padding_mask)
        return self.classifier(self.dropout(hidden[:, 0]))
