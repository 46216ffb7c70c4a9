"""Chapter 4 (transformers as SVMs): the objectives that :func:`iclcore.train.fit` differentiates instead of the
classification loss (its ``surrogate=``), and the drivers of the chapter's experiments.

* :func:`rescaled_surrogate` -- the logistic loss's gradient direction, immune to the exp underflow of the
  factorised model ({eq}`eq-ch4-rescale`).
* :func:`ridge_objective` -- the loss plus ``eps (||K||^2 + ||Q||^2)``, the vanishing regulariser of the
  authors' code ({eq}`eq-ch4-ridge`).
"""

from __future__ import annotations

import torch
from torch import nn

from iclcore import validate
from iclcore.models.softmax_attention import PromptAttention, SoftmaxAttention1L, attention_readout
from iclcore.tasks.token_selection import classification_loss


def rescaled_surrogate(model: nn.Module, inputs: tuple[torch.Tensor, ...], Y: torch.Tensor,
                       loss: str | list[str] = "logistic") -> torch.Tensor:
    """A per-member surrogate whose gradient is ``exp(-m_e) * grad L_e`` (same direction), shape (E,).

    ``inputs`` is ``(X, z, v)`` for :class:`SoftmaxAttention1L` and ``(X, v)`` for :class:`PromptAttention`
    with a fixed value head. With v fixed, ``grad f_i = sum_{t != alpha} (c_t - c_alpha) s_t grad(log s_t)``
    with c = X v; every term carries a factor s_t that underflows to exactly 0 once the score gaps pass ~745
    (float64), which happens within ~1000 steps for the factorised model (its norm grows quadratically).
    Dividing all s_t of member e by ``exp(m_e)``, m_e = max_{i, t != alpha} log s_it, *before* exponentiating
    keeps the largest term at 1 ({eq}`eq-ch4-rescale`). Normalised GD only uses the direction, so the step is
    unchanged where the plain gradient is representable and still defined where it has underflowed.
    """
    if isinstance(model, SoftmaxAttention1L):
        X, z, v = inputs
        scores = model.scores(X, z)
    elif isinstance(model, PromptAttention) and model.v is None:
        X, v = inputs
        scores = model.scores(X)
    else:
        raise ValueError("model must be a SoftmaxAttention1L or a PromptAttention with a fixed value head")
    values = torch.einsum("entd,ed->ent", X, v)
    with torch.enable_grad():                       # dL_e/df_i at the current point
        f = attention_readout(scores.detach(), values).requires_grad_(True)
        (dL_df,) = torch.autograd.grad(classification_loss(f, Y, loss).sum(), f)
    alpha = scores.detach().argmax(dim=-1, keepdim=True)
    log_s = scores - torch.logsumexp(scores, dim=-1, keepdim=True)
    log_s = log_s.scatter(-1, alpha, float("-inf"))                 # drop t = alpha
    m = log_s.detach().flatten(1).max(dim=1).values.view(-1, 1, 1)
    s_hat = torch.exp(log_s - m)
    f_hat = (s_hat * (values - values.gather(-1, alpha))).sum(-1)   # e^{-m} (f - c_alpha)
    return (dL_df * f_hat).sum(-1)


def ridge_objective(model: nn.Module, inputs: tuple[torch.Tensor, ...], Y: torch.Tensor,
                    eps: float = float(torch.finfo(torch.float64).eps), loss: str = "logistic") -> torch.Tensor:
    """``L_e + eps (||K_e||^2 + ||Q_e||^2)`` per member ({eq}`eq-ch4-ridge`), shape (E,).

    The authors' code adds this term with eps = 2.2e-16 (the float64 machine epsilon) to the loss of the
    factorised model. It is negligible until the logistic gradient itself is of order eps ||K||; from then on
    it decides the normalised step, and training parks K, Q at a point of the regularisation path
    ``argmin L + eps (||K||^2 + ||Q||^2)`` instead of growing them without bound.
    """
    if not isinstance(model, SoftmaxAttention1L) or model.param != "KQ":
        raise ValueError("model must be a SoftmaxAttention1L with param='KQ'")
    validate.nonnegative("eps", eps)
    ridge = model.K.pow(2).sum((1, 2)) + model.Q.pow(2).sum((1, 2))
    return classification_loss(model(*inputs), Y, loss) + eps * ridge
