"""Chain-of-thought data for auto-regressive learners: parity and multiplication, with a CoT-granularity knob.

A sampler returns ``(inputs, targets)`` for next-token training: ``inputs`` (B, L-1) are the token ids of a
sequence of length L without its last token, ``targets`` (B, L-1) the next token at each position, with
:data:`iclcore.tasks.recall.IGNORE` where nothing is asked (the question: its tokens are random, and the
book scores only what follows the question; right padding). Every format has a **fixed width**, so each
token of the chain of thought sits at the same position in every sequence.

**Parity** of n bits ({eq}`eq-ch17-parity-cot`): tokens 0, 1 and a separator ``SEP = 2``; the sequence is
``x_1 .. x_n SEP`` followed by, for each bit k = 1..n (with ``p_0 = 0`` and the running parity
``p_k = p_{k-1} XOR x_k``),

===========  ============================================================  =====================
``mode``      tokens written for bit k                                       CoT tokens
===========  ============================================================  =====================
``none``      nothing; only the answer ``p_n`` at the end                    1
``xor``       ``p_k``                                                        n
``or-xor``    ``o_k = OR(p_{k-1}, x_k)``, ``p_k``                           2n
``gates``     ``g_k = AND(p_{k-1}, x_k)``, ``o_k``, ``p_k = AND(o_k, NOT g_k)``  3n
===========  ============================================================  =====================

Every token of ``or-xor`` and ``gates`` is a linear threshold of earlier tokens (``p_k = [2 o_k - p_{k-1} - x_k
>= 1]``); the ``xor`` step is not.

**Multiplication** of a ``digits_a``-digit by a ``digits_b``-digit number (leading digits may be 0): tokens
0-9, ``TIMES = 10``, ``EQUALS = 11``; the question is ``a (MSD first) TIMES b EQUALS``; then

* ``direct``: the product, zero-padded to ``digits_a + digits_b`` digits, most significant first;
* ``partial``: every digit-pair product ``a_i b_j`` (i, j least significant first) as two digits, then the
  product (the official code's decomposition, without its place-value bookkeeping);
* ``running``: after each pair product, the running sum ``sum of a_i' b_j' 10^(i'+j')`` so far, zero-padded,
  **least** significant digit first (this book's addition: each digit is then a local function of a few earlier
  tokens), then the product most significant first.

Pairs are split into a training and a held-out set by a fixed hash (about 75 / 25, as the official code).
"""

from __future__ import annotations

import torch

from iclcore import validate
from iclcore.tasks.recall import IGNORE

SEP = 2
PARITY_MODES = {"none": 0, "xor": 1, "or-xor": 2, "gates": 3}
"""CoT tokens written per input bit (``none`` still writes the answer token)."""
TIMES, EQUALS = 10, 11
MULT_MODES = ("direct", "partial", "running")


def parity_cot_length(n: int, mode: str) -> int:
    """Number of tokens after the separator: 1 for ``none``, else ``PARITY_MODES[mode] * n``."""
    validate.positive_int("n", n)
    if mode not in PARITY_MODES:
        raise ValueError(f"mode must be one of {tuple(PARITY_MODES)}, got {mode!r}")
    return max(1, PARITY_MODES[mode] * n)


def parity_sequences(bits: torch.Tensor, mode: str) -> torch.Tensor:
    """Full sequences (B, n + 1 + CoT) for input bits (B, n) in {0, 1} ({eq}`eq-ch17-parity-cot`)."""
    if bits.dim() != 2 or bits.shape[1] < 1 or not ((bits == 0) | (bits == 1)).all():
        raise ValueError(f"bits must be a (B, n) tensor of 0/1 with n >= 1, got shape {tuple(bits.shape)}")
    B, n = bits.shape
    parity_cot_length(n, mode)
    bits = bits.long()
    z = torch.zeros(B, dtype=torch.long)
    steps = []
    for k in range(n):
        x = bits[:, k]
        a, o = z & x, z | x
        z = o & (1 - a)
        steps.append({"xor": [z], "or-xor": [o, z], "gates": [a, o, z], "none": []}[mode])
    cot = [t for step in steps for t in step] or [z]
    return torch.cat([bits, torch.full((B, 1), SEP), torch.stack(cot, 1)], 1)


def next_token_pairs(seq: torch.Tensor, question: int, length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(inputs, targets)`` of full sequences (B, L): inputs ``seq[:, :-1]``, targets ``seq[:, 1:]`` with the
    first ``question - 1`` targets (tokens of the question) set to IGNORE; right-padded to ``length`` tokens
    (inputs padded with 0, targets with IGNORE)."""
    L = seq.shape[1]
    if length is None:
        length = L
    if isinstance(length, bool) or not isinstance(length, int) or length < L:
        raise ValueError(f"length must be an int >= the sequence length {L} (the CoT must fit), got {length!r}")
    full = torch.nn.functional.pad(seq, (0, length - L), value=0)
    targets = full[:, 1:].clone()
    targets[:, : question - 1] = IGNORE
    targets[:, L - 1:] = IGNORE
    return full[:, :-1], targets


class ParityCoT:
    """Sampler of parity sequences of n uniform bits with the chain of thought of ``mode`` (module docstring).

    ``length``: pad every sequence to this many tokens (so several modes can share one batched model); it must
    be at least ``n + 1 + parity_cot_length(n, mode)``. ``__call__(batch_size, generator)`` ->
    ``(inputs (B, length-1), targets (B, length-1))``; :meth:`sequences` gives the full unpadded sequences.
    """

    def __init__(self, n: int, mode: str, length: int | None = None):
        self.n = validate.int_in_range("n", n, 1, 512)
        self.cot = parity_cot_length(n, mode)
        self.mode = mode
        self.seq_len = n + 1 + self.cot
        if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < self.seq_len):
            raise ValueError(f"length must be an int >= {self.seq_len} (n + 1 + CoT tokens of mode "
                             f"{mode!r}), got {length!r}")
        self.length = self.seq_len if length is None else length

    @property
    def question(self) -> int:
        """Number of question tokens (bits and separator): the answer starts at this position."""
        return self.n + 1

    def sequences(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """Full sequences (B, n + 1 + CoT) of fresh random bits."""
        B = validate.positive_int("batch_size", batch_size)
        return parity_sequences(torch.randint(0, 2, (B, self.n), generator=generator), self.mode)

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return next_token_pairs(self.sequences(batch_size, generator), self.question, self.length)


# ----------------------------------------------------------------------------------------------------------
# Multiplication


def _digits(v: torch.Tensor, width: int, lsd_first: bool = False) -> torch.Tensor:
    """Decimal digits (B, width) of non-negative ints (B,), zero-padded, MSD first unless ``lsd_first``."""
    p = 10 ** torch.arange(width)
    d = (v[:, None] // p) % 10
    return d if lsd_first else d.flip(1)


def mult_cot_length(digits_a: int, digits_b: int, mode: str) -> int:
    """Tokens after ``EQUALS``: ``m`` (direct), ``2 da db + m`` (partial), ``(2 + m) da db + m`` (running),
    with ``m = da + db``."""
    da = validate.int_in_range("digits_a", digits_a, 1, 9)
    db = validate.int_in_range("digits_b", digits_b, 1, 9)
    if mode not in MULT_MODES:
        raise ValueError(f"mode must be one of {MULT_MODES}, got {mode!r}")
    m = da + db
    return {"direct": m, "partial": 2 * da * db + m, "running": (2 + m) * da * db + m}[mode]


def multiplication_sequences(a: torch.Tensor, b: torch.Tensor, digits_a: int, digits_b: int,
                             mode: str) -> torch.Tensor:
    """Full sequences (B, da + db + 2 + CoT) for factors a, b (B,) (module docstring)."""
    mult_cot_length(digits_a, digits_b, mode)
    a, b = torch.as_tensor(a).long(), torch.as_tensor(b).long()
    if a.shape != b.shape or a.dim() != 1 or (a < 0).any() or (a >= 10**digits_a).any() or (b < 0).any() \
            or (b >= 10**digits_b).any():
        raise ValueError(f"a and b must be (B,) integers with at most digits_a={digits_a} and "
                         f"digits_b={digits_b} digits")
    B, m = a.shape[0], digits_a + digits_b
    parts = [_digits(a, digits_a), torch.full((B, 1), TIMES), _digits(b, digits_b), torch.full((B, 1), EQUALS)]
    if mode != "direct":
        da_, db_ = _digits(a, digits_a, True), _digits(b, digits_b, True)
        running = torch.zeros(B, dtype=torch.long)
        for i in range(digits_a):
            for j in range(digits_b):
                prod = da_[:, i] * db_[:, j]
                parts.append(_digits(prod, 2))
                if mode == "running":
                    running = running + prod * 10 ** (i + j)
                    parts.append(_digits(running, m, lsd_first=True))
    parts.append(_digits(a * b, m))
    return torch.cat(parts, 1)


def split_pairs(digits_a: int, digits_b: int, held_out: float = 0.25) -> tuple[torch.Tensor, torch.Tensor]:
    """All pairs (a, b) with at most ``digits_a`` / ``digits_b`` digits, split by a fixed hash into
    ``(train (N1, 2), held_out (N2, 2))``; about a fraction ``held_out`` is held out."""
    da = validate.int_in_range("digits_a", digits_a, 1, 4)
    db = validate.int_in_range("digits_b", digits_b, 1, 4)
    validate.in_interval("held_out", held_out, 0.01, 0.99)
    a, b = torch.meshgrid(torch.arange(10**da), torch.arange(10**db), indexing="ij")
    pairs = torch.stack([a.flatten(), b.flatten()], 1)
    h = (pairs[:, 0] * 2_654_435_761 + pairs[:, 1] * 40_503 + 12_345) % 1_000_003   # a fixed hash
    test = (h % 1000) < int(round(held_out * 1000))
    return pairs[~test], pairs[test]


class MultiplicationCoT:
    """Sampler of multiplication sequences of the pairs ``pairs`` (N, 2) in the format ``mode``.

    ``__call__(batch_size, generator)`` draws pairs uniformly from ``pairs`` -> ``(inputs, targets)`` with the
    question ``a TIMES b EQUALS`` ignored; ``length`` right-pads as in :class:`ParityCoT`.
    """

    def __init__(self, pairs: torch.Tensor, digits_a: int, digits_b: int, mode: str, length: int | None = None):
        self.cot = mult_cot_length(digits_a, digits_b, mode)
        self.digits_a, self.digits_b, self.mode = digits_a, digits_b, mode
        self.pairs = torch.as_tensor(pairs).long()
        if self.pairs.dim() != 2 or self.pairs.shape[1] != 2 or self.pairs.shape[0] < 1:
            raise ValueError(f"pairs must have shape (N, 2) with N >= 1, got {tuple(self.pairs.shape)}")
        self.seq_len = self.question + self.cot
        if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < self.seq_len):
            raise ValueError(f"length must be an int >= {self.seq_len} (question + CoT of mode {mode!r}), "
                             f"got {length!r}")
        self.length = self.seq_len if length is None else length

    @property
    def question(self) -> int:
        """Number of question tokens (``a TIMES b EQUALS``)."""
        return self.digits_a + self.digits_b + 2

    def sequences(self, pairs: torch.Tensor | None = None) -> torch.Tensor:
        """Full sequences (N, question + CoT) of ``pairs`` (default: all of this sampler's pairs)."""
        p = self.pairs if pairs is None else torch.as_tensor(pairs).long()
        return multiplication_sequences(p[:, 0], p[:, 1], self.digits_a, self.digits_b, self.mode)

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B = validate.positive_int("batch_size", batch_size)
        idx = torch.randint(0, self.pairs.shape[0], (B,), generator=generator)
        return next_token_pairs(self.sequences(self.pairs[idx]), self.question, self.length)


def answer_correct(generated: torch.Tensor, reference: torch.Tensor, width: int) -> torch.Tensor:
    """Exact match of the last ``width`` tokens (the answer): generated (..., B, L), reference (B, L) -> bool
    (..., B)."""
    validate.positive_int("width", width)
    L = reference.shape[-1]
    if generated.shape[-1] < L:
        raise ValueError(f"generated must hold at least {L} tokens, got {generated.shape[-1]}")
    return (generated[..., L - width:L] == reference[..., L - width:]).all(-1)
