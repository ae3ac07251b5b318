"""The harness's configs, without torch: validating a search space or a run configuration
imports no model code. One home each:

- ``data``: ``SampleConfig`` (§4.1.1) and ``StereotypeConfig`` (Eq. 1-3)
- ``heads``: every head's options and registration (``HEADS``)
- ``objectives``: every objective's options and registration (``OBJECTIVES``)
- ``train``: ``TrainConfig`` and ``default_lr`` (§4.1.4, or the backbone's measured lr)
- ``run``: ``RunConfig``, one trial's whole configuration (its ``to_dict`` makes the config id)
- ``sweep``: ``Resources`` (and the executor) and ``ASHA``
"""

from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.run import RunConfig
from harness.config.sweep import ASHA, Resources
from harness.config.train import TrainConfig, default_lr

__all__ = ["ASHA", "Resources", "RunConfig", "SampleConfig", "StereotypeConfig", "TrainConfig", "default_lr"]
