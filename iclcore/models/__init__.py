"""Models: plain ``torch.nn.Module`` s whose ``forward`` fits on one screen. They import nothing from
``tasks``, ``theory``, ``train`` or ``experiments``.

Ensemble convention: a model built with ``n_members=E`` holds E independent copies of its parameters
(leading dimension E) and maps inputs to predictions with a leading member axis E. Training the sum of the
E losses is exactly E independent trainings, done in one batched pass. Models of different kinds are put
side by side with :class:`Ensemble`.
"""

from iclcore.models.ensemble import Ensemble
from iclcore.models.sequence_ops import causal_conv, causal_mask

__all__ = ["Ensemble", "causal_conv", "causal_mask"]

# --- Part I (chapters 1-2) ---
from iclcore.models.h3 import H3  # noqa: E402
from iclcore.models.linear_attention import LinearAttention  # noqa: E402
from iclcore.models.lora import LoRA, LoRAAttention, mask_factor_rank  # noqa: E402
from iclcore.models.pgd import PGD, WPGD  # noqa: E402

__all__ += ["H3", "LinearAttention", "LoRA", "LoRAAttention", "PGD", "WPGD", "mask_factor_rank"]
# transformers as algorithms (Part I)
from iclcore.models.vector_gpt import NextStateGPT, RegressionGPT, VectorGPT  # noqa: E402

__all__ += ["NextStateGPT", "RegressionGPT", "VectorGPT"]
# minimax nonparametric ICL (Part I)
from iclcore.models.feature_attention import FeatureLinearAttention  # noqa: E402

__all__ += ["FeatureLinearAttention"]
# --- Part II (chapters 3-4) ---
from iclcore.models.softmax_attention import PromptAttention, SoftmaxAttention1L, attention_readout  # noqa: E402

__all__ += ["PromptAttention", "SoftmaxAttention1L", "attention_readout"]
# --- Part III (chapters 5-6) ---
from iclcore.models.cat import CAT, CATAttention, CausalConv1d, cat_block  # noqa: E402
from iclcore.models.gpt import TinyGPT  # noqa: E402
from iclcore.models.selective_attention import (  # noqa: E402
    BilinearSoftmax,
    CausalSelfAttention,
    NeedleAttention,
    SelectiveAttention,
)

__all__ += ["BilinearSoftmax", "CAT", "CATAttention", "CausalConv1d", "CausalSelfAttention", "NeedleAttention",
            "SelectiveAttention", "TinyGPT", "cat_block"]
# --- autoregressive learning ---
from iclcore.models.augmented_linear_attention import AugmentedLinearAttention  # noqa: E402
from iclcore.models.diagonal_positional_attention import DiagonalPositionalAttention  # noqa: E402

__all__ += ["AugmentedLinearAttention", "DiagonalPositionalAttention"]
# --- Markov chains (CCMC) ---
from iclcore.models.tied_attention import TiedEmbeddingAttention  # noqa: E402

__all__ += ["TiedEmbeddingAttention"]
# --- knowledge distillation ---
# --- next-token mechanics ---
from iclcore.models.next_token_attention import NextTokenAttention  # noqa: E402

__all__ += ["NextTokenAttention"]
# --- dissecting chain-of-thought (chapter file 16) ---
from iclcore.models.cot_gpt import CoTGPT  # noqa: E402

__all__ += ["CoTGPT"]
# --- Chapter 17: auto-regressive universal learners (Part "Composition and reasoning") ---
from iclcore.models.linear_ar import LinearAR, block_mask, complete  # noqa: E402

__all__ += ["LinearAR", "block_mask", "complete"]
