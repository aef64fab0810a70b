"""Shared fixtures of the training tests."""

import pytest


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """A tfds data dir of this test session; synthetic_shapes builds in it on first use (~10 s)."""
    return str(tmp_path_factory.mktemp("tfds"))
