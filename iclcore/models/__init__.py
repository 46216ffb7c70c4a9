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
# --- Part II (chapters 3-4) ---
# --- Part III (chapters 5-6) ---
# --- autoregressive learning ---
# --- Markov chains (CCMC) ---
# --- knowledge distillation ---
