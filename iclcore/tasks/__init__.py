"""Seeded samplers, and the metric that goes with each task.

A sampler is any callable ``sampler(batch_size, generator) -> (inputs, targets)``; nothing reads global
random state. :func:`stack` batches configurations into one ensemble sampler (named members).
"""

from iclcore.tasks.base import Sampler, Stacked, make_generator, squared_error, stack

__all__ = ["Sampler", "Stacked", "make_generator", "squared_error", "stack"]

# --- Part I (chapters 1-2) ---
from iclcore.tasks.linear_regression import LinearRegression, TaskAlignedRegression  # noqa: E402
from iclcore.tasks.retrieval import RetrievalRegression  # noqa: E402

__all__ += ["LinearRegression", "RetrievalRegression", "TaskAlignedRegression"]
# transformers as algorithms (Part I)
from iclcore.tasks.linear_dynamics import LinearDynamics, stable_matrices  # noqa: E402
from iclcore.tasks.regression_prompts import RegressionPrompts, prefix_risk  # noqa: E402

__all__ += ["LinearDynamics", "RegressionPrompts", "prefix_risk", "stable_matrices"]
# minimax nonparametric ICL (Part I)
from iclcore.tasks.smooth_functions import SmoothFunctionRegression, SmoothPrior  # noqa: E402

__all__ += ["SmoothFunctionRegression", "SmoothPrior"]
# mesa-optimization (Part I)
from iclcore.tasks.diagonal_ar import START_LAWS, DiagonalARSequences, sample_start  # noqa: E402

__all__ += ["START_LAWS", "DiagonalARSequences", "sample_start"]
# --- Part II (chapters 3-4) ---
from iclcore.tasks.token_selection import (  # noqa: E402
    LOSSES,
    TokenSelectionData,
    classification_accuracy,
    classification_loss,
    token_selection,
)

__all__ += ["LOSSES", "TokenSelectionData", "classification_accuracy", "classification_loss", "token_selection"]
# --- Part III (chapters 5-6) ---
from iclcore.tasks.recall import (  # noqa: E402
    IGNORE,
    AssociativeRecall,
    Copying,
    SelectiveCopying,
    lm_loss,
    token_accuracy,
)
from iclcore.tasks.sequences import (  # noqa: E402
    DecoyRetrieval,
    LMWindows,
    NeedleRetrieval,
    row_kl,
    spiky_transitions,
    synthetic_stories,
)

__all__ += ["IGNORE", "AssociativeRecall", "Copying", "DecoyRetrieval", "LMWindows", "NeedleRetrieval",
            "SelectiveCopying", "lm_loss", "row_kl", "spiky_transitions", "synthetic_stories", "token_accuracy"]
# --- autoregressive learning ---
from iclcore.tasks.autoregressive import RotationSequences, position_risk, sequence_risk  # noqa: E402

__all__ += ["RotationSequences", "position_risk", "sequence_risk"]
# --- Markov chains (CCMC) ---
from iclcore.tasks.markov import (  # noqa: E402
    generate_ccmc,
    histogram_entropy,
    next_token_nll,
    random_scores,
    rank_shares,
    sample_tokens,
    token_counts,
    token_histogram,
    top_share,
    uniform_prompts,
)

__all__ += ["generate_ccmc", "histogram_entropy", "next_token_nll", "random_scores", "rank_shares", "sample_tokens",
            "token_counts", "token_histogram", "top_share", "uniform_prompts"]
# --- knowledge distillation ---
from iclcore.tasks.gaussian_features import (  # noqa: E402
    GaussianFeatures,
    excess_risk,
    power_law_signal,
    power_law_spectrum,
)

__all__ += ["GaussianFeatures", "excess_risk", "power_law_signal", "power_law_spectrum"]
# --- next-token mechanics ---
from iclcore.tasks.token_priority import (  # noqa: E402
    TokenPriorityTask,
    log_prob_nll,
    random_label_data,
    token_embeddings,
    tokens_present,
)

__all__ += ["TokenPriorityTask", "log_prob_nll", "random_label_data", "token_embeddings", "tokens_present"]
# --- Part V (learning across tasks, teachers and time) ---
from iclcore.tasks.bandits import (  # noqa: E402
    BanditStreams,
    DelayedBandit,
    credit,
    delayed_rewards,
    direction_error,
    greedy_arms,
    lagged_design,
    lags_recovered,
    played,
    pseudo_regret,
    sample_bandits,
    sample_streams,
)

__all__ += ["BanditStreams", "DelayedBandit", "credit", "delayed_rewards", "direction_error", "greedy_arms",
            "lagged_design", "lags_recovered", "played", "pseudo_regret", "sample_bandits", "sample_streams"]
# --- dissecting chain-of-thought (chapter file 16) ---
from iclcore.tasks.mlp_regression import ChainLoss, MLPRegression  # noqa: E402

__all__ += ["ChainLoss", "MLPRegression"]
# --- Chapter 17: auto-regressive universal learners (Part "Composition and reasoning") ---
from iclcore.tasks.cot import (  # noqa: E402
    PARITY_MODES,
    MultiplicationCoT,
    ParityCoT,
    answer_correct,
    multiplication_sequences,
    parity_sequences,
    split_pairs,
)
from iclcore.tasks.sequences import STORY_SENTENCES, grammatical_sentences, ngram_cross_entropy  # noqa: E402

__all__ += ["PARITY_MODES", "STORY_SENTENCES", "MultiplicationCoT", "ParityCoT", "answer_correct",
            "grammatical_sentences", "multiplication_sequences", "ngram_cross_entropy", "parity_sequences",
            "split_pairs"]
# --- task superposition (chapter 18) ---
from iclcore.tasks.superposition import (  # noqa: E402
    PositionRetrieval,
    answer_cross_entropy,
    answer_probs,
    check_proportions,
    task_counts,
)

__all__ += ["PositionRetrieval", "answer_cross_entropy", "answer_probs", "check_proportions", "task_counts"]
