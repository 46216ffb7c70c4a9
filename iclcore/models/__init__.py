"""Models: plain ``torch.nn.Module`` s whose ``forward`` fits on one screen.

Ensemble convention: a model built with ``n_models=E`` holds E independent copies of its parameters
(leading dimension E) and maps prompts ``(B, T, D)`` or ``(E, B, T, D)`` to predictions ``(E, B)``.
Training the sum of the E losses with Adam is exactly E independent trainings, done in one batched pass.
"""

from iclcore.models.attention import BilinearSoftmax as BilinearSoftmax
from iclcore.models.attention import CausalSelfAttention as CausalSelfAttention
from iclcore.models.attention import ModelStack as ModelStack
from iclcore.models.attention import NeedleAttention as NeedleAttention
from iclcore.models.attention import SelectiveAttention as SelectiveAttention
from iclcore.models.attention import needle_report as needle_report
from iclcore.models.cat import CAT, CATAttention, CausalConv1d, cat_block, cat_recall_construction  # noqa: F401  (ch. 6)
from iclcore.models.gpt import TinyGPT as TinyGPT
from iclcore.models.gpt import evaluate_lm as evaluate_lm
from iclcore.models.gpt import lm_loss as lm_loss
from iclcore.models.h3 import H3  # noqa: F401  (chapter 2)
from iclcore.models.linear_attention import LinearAttention
from iclcore.models.lora import LoRA, LoRAAttention, mask_factor_rank  # noqa: F401  (chapter 2)
from iclcore.models.pgd import PGD, WPGD  # noqa: F401  (chapter 2)
from iclcore.models.token_selection import PromptAttention, SoftmaxAttention1L  # noqa: F401  (chapters 3-4)

__all__ = ["LinearAttention"]
