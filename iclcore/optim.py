"""Normalised gradient descent, the optimiser of the max-margin attention papers (Tarzanagh et al. 2023).

For every parameter tensor P (and, for an ensemble, separately for every member e along the leading
dimension) one step is ({eq}`eq-ch3-ngd`)

    P_e  <-  P_e - lr * grad_e / ||grad_e||_F

so each step moves the parameter by exactly ``lr``: ||P(t)|| grows linearly in t and the *direction* of P
converges fast enough to be seen in a few thousand steps (plain GD grows ||P|| only logarithmically).
For the factorised model W = K Q^T each factor is normalised on its own (one block per parameter tensor).

``norm_offset`` > 0 divides by ``||grad_e|| + norm_offset`` instead, as the authors' code does (with the
float64 machine epsilon): the step length is then ``lr ||grad|| / (||grad|| + norm_offset)``, which collapses
to zero once the gradient falls below the offset ({eq}`eq-ch3-ngd-offset`).

``max_norm`` turns the step into projected normalised GD on the ball ``||P_e|| <= max_norm``, used to trace
the regularisation path ``argmin_{||P|| <= R} L(P)`` ({eq}`eq-ch3-regpath`).
"""

from __future__ import annotations

import torch

from iclcore import validate


class NormalizedGD(torch.optim.Optimizer):
    """Normalised (projected) gradient descent, {eq}`eq-ch3-ngd`.

    Parameters
    ----------
    params : parameters (or parameter groups) to train.
    lr : step length (the distance every block moves per step).
    ensemble_dims : number of leading dimensions that index independent models (0 = one model; 1 = the
        book's ensemble convention, leading dim E). Norms are taken over the remaining dimensions.
    max_norm : if given, project every block back onto ``||P_e|| <= max_norm`` after the step.
    eps : a block whose gradient norm is below ``eps`` is left unchanged (its gradient has underflowed).
    norm_offset : added to the gradient norm in the denominator (0: exact normalisation; the authors' code
        uses ``torch.finfo(torch.float64).eps``, {eq}`eq-ch3-ngd-offset`).
    """

    def __init__(self, params, lr: float = 0.1, ensemble_dims: int = 1, max_norm: float | None = None,
                 eps: float = 1e-300, norm_offset: float = 0.0):
        validate.positive("lr", lr)
        validate.int_in_range("ensemble_dims", ensemble_dims, 0, 8)
        if max_norm is not None:
            validate.positive("max_norm", max_norm)
        validate.nonnegative("norm_offset", norm_offset)
        super().__init__(params, {"lr": lr, "ensemble_dims": ensemble_dims, "max_norm": max_norm, "eps": eps,
                                  "norm_offset": norm_offset})

    @staticmethod
    def _block_norm(t: torch.Tensor, k: int) -> torch.Tensor:
        dims = tuple(range(k, t.dim()))
        if not dims:
            return t.abs()
        return torch.linalg.vector_norm(t, dim=dims, keepdim=True)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            k, lr, R, eps, offset = (group["ensemble_dims"], group["lr"], group["max_norm"], group["eps"],
                                     group["norm_offset"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.dim() < k:
                    raise ValueError(f"parameter of shape {tuple(p.shape)} has fewer than ensemble_dims={k} dims")
                gn = self._block_norm(p.grad, k)
                if offset > 0:
                    scale = lr / (gn + offset)
                else:
                    scale = torch.where(gn > eps, lr / gn.clamp_min(eps), torch.zeros_like(gn))
                p.sub_(scale * p.grad)
                if R is not None:
                    pn = self._block_norm(p, k)
                    p.mul_(torch.where(pn > R, R / pn, torch.ones_like(pn)))
        return loss
