"""Every closed form and every convex program of the book (numpy, scipy, cvxpy).

Risk convention (used everywhere in the book): the risk of a predictor is ``E[(y - y_hat)^2]`` for a fresh
query, **including the query-label noise** ``noise**2``. Subtract ``noise**2`` to get the excess risk.
``noise`` is always a standard deviation.
"""

__all__: list[str] = []

# --- Part I (chapters 1-2) ---
# --- Part II (chapters 3-4) ---
# --- Part III (chapters 5-6) ---
# --- autoregressive learning ---
# --- Markov chains (CCMC) ---
# --- knowledge distillation ---
