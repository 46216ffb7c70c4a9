"""Models: plain ``torch.nn.Module`` s whose ``forward`` fits on one screen.

Ensemble convention: a model built with ``n_models=E`` holds E independent copies of its parameters
(leading dimension E) and maps prompts ``(B, T, D)`` or ``(E, B, T, D)`` to predictions ``(E, B)``.
Training the sum of the E losses with Adam is exactly E independent trainings, done in one batched pass.
"""

from iclcore.models.linear_attention import LinearAttention

__all__ = ["LinearAttention"]
