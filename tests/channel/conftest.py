"""Channel-coding tests run torch on one thread: on a shared 2-core machine, a second OpenMP thread
competing with other work slows the batched ECCT down many times. The previous setting is restored
so other test directories are unaffected."""
import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
