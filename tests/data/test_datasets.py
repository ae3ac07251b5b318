"""The data-set registry (``harness.config.datasets``, torch-free) names its loaders' parts as
"module:attr": each must resolve, and the loader must know itself by the registered name."""

import pytest

from harness.config.datasets import DATASETS
from harness.registry import resolve


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_registered_loader_part_resolves(name):
    spec = DATASETS[name]
    load, fetch = resolve(spec.load), resolve(spec.fetch)
    assert callable(load) and callable(fetch), name
    assert resolve(spec.load.partition(":")[0] + ":NAME") == name  # the loader's own name for it
    if spec.generated is None:
        assert resolve(spec.markers) and resolve(spec.data_files), name
    else:
        assert resolve(spec.generated), name


def test_a_part_is_named_as_module_and_attribute():
    with pytest.raises(ValueError, match="expected 'module:attr'"):
        resolve("harness.data.movielens")
