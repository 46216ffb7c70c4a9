"""Models: plain ``torch.nn.Module`` s whose ``forward`` fits on one screen.

Ensemble convention: a model built with ``n_models=E`` holds E independent copies of its parameters
(leading dimension E) and maps prompts ``(B, T, D)`` or ``(E, B, T, D)`` to predictions ``(E, B)``.
Training the sum of the E losses with Adam is exactly E independent trainings, done in one batched pass.

=====================  =========================================================  =========
module                 what                                                       chapter
=====================  =========================================================  =========
``linear_attention``   1-layer linear attention = one preconditioned GD step      1, 2
``pgd``, ``h3``        direct PGD / weighted PGD; simplified H3 (sample weights)  2
``lora``               LoRA on a weight matrix and on linear attention            2
``token_selection``    softmax attention with a trained query p or matrix W/KQ    3, 4
``attention``          causal softmax and selective (temperature) attention       5
``gpt``                TinyGPT with a pluggable attention block                   5, 6
``cat``                convolution-augmented attention (CAT) and its construction 6
=====================  =========================================================  =========
"""

from iclcore.models.attention import (
    BilinearSoftmax,
    CausalSelfAttention,
    ModelStack,
    NeedleAttention,
    SelectiveAttention,
    needle_report,
)
from iclcore.models.gpt import TinyGPT, evaluate_lm, lm_loss
from iclcore.models.h3 import H3
from iclcore.models.linear_attention import LinearAttention
from iclcore.models.lora import LoRA, LoRAAttention, mask_factor_rank
from iclcore.models.pgd import PGD, WPGD

__all__ = [
    "BilinearSoftmax", "CausalSelfAttention", "H3", "LinearAttention", "LoRA", "LoRAAttention", "ModelStack",
    "NeedleAttention", "PGD", "SelectiveAttention", "TinyGPT", "WPGD", "evaluate_lm", "lm_loss",
    "mask_factor_rank", "needle_report",
]
