"""Shared fixtures: a tiny random LM (seconds) and the real default model
(loaded once, only by the few end-to-end tests that ask for it)."""

import pytest


@pytest.fixture(scope="session")
def tiny_lm():
    from gnuradio.lmsscc.source.tiny import tiny_model

    return tiny_model(seed=0)


@pytest.fixture(scope="session")
def default_lm():
    from gnuradio.lmsscc.source import shared_model

    return shared_model(None)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_lm):
    """The tiny model saved as a local Hugging Face folder (safetensors)."""
    folder = tmp_path_factory.mktemp("tiny-model")
    tiny_lm.model.save_pretrained(folder, safe_serialization=True)
    tiny_lm.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def one_torch_thread():
    """Torch on one thread for the test, restored after: on a shared 2-core
    machine a second OpenMP thread competing with other work slows batched
    inference down many times."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
