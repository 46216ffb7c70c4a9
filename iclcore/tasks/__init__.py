"""Seeded samplers, and the metric that goes with each task.

A sampler is any callable ``sampler(batch_size, generator) -> (inputs, targets)``; nothing reads global
random state. :func:`stack` batches configurations into one ensemble sampler (named members).
"""

from iclcore.tasks.base import Sampler, Stacked, make_generator, squared_error, stack

__all__ = ["Sampler", "Stacked", "make_generator", "squared_error", "stack"]

# --- Part I (chapters 1-2) ---
# --- Part II (chapters 3-4) ---
# --- Part III (chapters 5-6) ---
# --- autoregressive learning ---
# --- Markov chains (CCMC) ---
# --- knowledge distillation ---
