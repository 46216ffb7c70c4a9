"""Bad input of the package's core: profile, train, evaluate, tasks.stack, models.Ensemble, checks, widgets."""

import torch

from iclcore import profile
from iclcore.checks import SIM_SIM, SIM_THEORY, ReproductionChecks
from iclcore.evaluate import Results, evaluate
from iclcore.linalg import sqrtm_psd
from iclcore.models import Ensemble
from iclcore.tasks import make_generator, squared_error, stack
from iclcore.train import Snapshot, fit


def _model():
    return torch.nn.Linear(2, 1)


def _sampler(b, g):
    return torch.randn(b, 2, generator=g), torch.zeros(b)


CASES = [
    (profile.seed, (-1,), {}, "base"),
    (profile.declare_breaks, ({},), {}, "switches"),
    (profile.declare_breaks, ({"Has Space": "x"},), {}, "switches"),
    (profile.declare_breaks, ({"ok": ""},), {}, "switches"),
    (profile.set_threads, (0,), {}, "n"),
    (fit, (_model(), _sampler), {"steps": 0}, "steps"),
    (fit, (_model(), _sampler), {"steps": 2, "lr": -1.0}, "lr"),
    (fit, (_model(), _sampler), {"steps": 2, "batch_size": 0}, "batch_size"),
    (fit, (_model(), _sampler), {"steps": 2, "schedule": "linear"}, "schedule"),
    (fit, (_model(), _sampler), {"steps": 2, "optimizer": "rmsprop"}, "optimizer"),
    (fit, (_model(), 42), {"steps": 2, "progress": False}, "data"),
    (Snapshot, (len,), {}, "Snapshot"),
    (Snapshot, (len,), {"every": 0}, "every"),
    (evaluate, (_model(), _sampler, {}), {}, "metrics"),
    (evaluate, (_model(), _sampler, {"mse": squared_error}), {"n_samples": 0}, "n_samples"),
    (Results, (("a", "a"), {}), {}, "members"),
    (make_generator, (1.5,), {}, "seed"),
    (stack, ([],), {}, "samplers"),
    (stack, ([1, 2],), {}, "samplers"),
    (Ensemble, ([],), {}, "models"),
    (sqrtm_psd, ([1.0, 2.0],), {}, "S"),
    (ReproductionChecks("t").close, ("c", 1.0, 1.0), {"rtol": 0.1, "compares": "by eye"}, "compares"),
]

_c = ReproductionChecks("t")
CASES += [
    (_c.close, ("c", 1, 1), {"compares": SIM_THEORY}, "rtol or atol"),
    (_c.close, ("c", 1, 1), {"rtol": -1, "compares": SIM_THEORY}, "rtol"),
    (_c.less, ("c", "abc", 1), {"compares": SIM_SIM}, "measured"),
    (_c.greater, ("c", 1, None), {"compares": SIM_SIM}, "bound"),
    (_c.true, ("c", True), {"compares": "eyeballed"}, "compares"),
]

from iclcore.exercises import check_function  # noqa: E402

CASES += [(check_function, (len, len, []), {"name": "x"}, "cases")]

from iclcore.widgets import int_knob, live_panel  # noqa: E402

CASES += [
    (live_panel, (lambda: None, {}), {}, "controls"),
    (live_panel, (None, {"n": int_knob("n", 2, 1, 3)}), {}, "update"),
    (live_panel, (lambda n: None, {"n": 3}), {}, "controls"),
]
