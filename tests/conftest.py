import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # lets tests import tests/toc.py and tests/helpers.py


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tests run two at a time (xdist): one torch thread each is faster than two competing ones."""
    torch.set_num_threads(1)
