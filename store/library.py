"""The library: passages and their embeddings in Chroma.

One collection per embedding model (its name carries the model); the model's file hash is kept
in the collection's metadata and checked on open. Passage ids are derived from the paper's
content hash, so a paper already embedded is never embedded again. An embedded store is
guarded by a file lock held for as long as the library is open.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from synth.domain.errors import BadInput
from synth.domain.records import Evidence, Passage
from synth.store.embeddings import Embedder
from synth.store.lexical import Bm25, fused

POOL = 20  # candidates each ranking offers the fusion


def collection_name(embedder_name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", embedder_name).strip("-._")
    return f"passages-{slug}"


def unit_rows(vectors: Any) -> np.ndarray:
    """`vectors` as rows of length one (a zero row stays zero)."""
    rows = np.asarray(vectors, dtype=np.float64)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def best_cosines(vectors: Any, queries: np.ndarray) -> np.ndarray:
    """Each of `vectors`' highest cosine similarity to any row of `queries` (unit rows)."""
    return (unit_rows(vectors) @ queries.T).max(axis=1)


class Library:
    def __init__(self, location: str | Path, embedder: Embedder, lock_timeout: float = 60.0):
        import chromadb
        from chromadb.config import Settings

        self.embedder = embedder
        self.location = str(location)
        self._lock: FileLock | None = None
        self._query_vectors: dict[str, list[float]] = {}
        self._lexical: dict[tuple[str, ...] | None, Bm25] = {}
        settings = Settings(anonymized_telemetry=False)
        if self.location.startswith(("http://", "https://")):
            from urllib.parse import urlsplit

            parts = urlsplit(self.location)
            self._client = chromadb.HttpClient(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 8000,
                ssl=parts.scheme == "https",
                settings=settings,
            )
        else:
            path = Path(self.location)
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise BadInput(
                    f"cannot create the library folder {path}: {error.strerror}",
                    "pass --store with a folder you can write to",
                ) from None
            self._lock = FileLock(str(path / "synth.lock"))
            try:
                self._lock.acquire(timeout=0)
            except Timeout:
                print(
                    f"synth: the library at {path} is in use by another synth process; "
                    f"waiting up to {lock_timeout:g} s",
                    file=sys.stderr,
                )
                self._wait_for_lock(path, lock_timeout)
            self._client = self._open_client(chromadb, path, settings)
        try:
            _ = self.embedder.sha256  # a missing embedding model is its own error, not the store's
        except BaseException:
            self.close()
            raise
        try:
            self._collection = self._open_collection()
        except BadInput:
            self.close()
            raise
        except Exception as error:  # chromadb reports a damaged store in many ways
            self.close()
            raise BadInput(
                f"the library at {self.location} cannot be read ({type(error).__name__}: "
                f"{str(error)[:120]})",
                "move the folder away (it is rebuilt from the papers), or pass --store",
            ) from None

    def _wait_for_lock(self, path: Path, timeout: float) -> None:
        assert self._lock is not None
        try:
            self._lock.acquire(timeout=timeout)
        except Timeout:
            raise BadInput(
                f"the library at {path} is in use by another synth process",
                "wait for it to finish, or pass --store with another folder",
            ) from None

    def _open_client(self, chromadb: Any, path: Path, settings: Any) -> Any:
        try:
            return chromadb.PersistentClient(path=str(path), settings=settings)
        except Exception as error:  # a damaged or foreign folder
            self.close()
            raise BadInput(
                f"the library at {path} cannot be read ({type(error).__name__}: "
                f"{str(error)[:120]})",
                "move the folder away (it is rebuilt from the papers), or pass --store",
            ) from None

    def _open_collection(self) -> Any:
        name = collection_name(self.embedder.name)
        wanted = {"embedder": self.embedder.name, "embedder_sha256": self.embedder.sha256}
        collection = self._client.get_or_create_collection(
            name=name,
            embedding_function=None,
            metadata={**wanted, "hnsw:space": "cosine"},
        )
        found = collection.metadata or {}
        if found.get("embedder_sha256") not in (None, wanted["embedder_sha256"]):
            raise BadInput(
                f"the library collection {name} was built with other embedding weights "
                f"(sha256 {str(found.get('embedder_sha256'))[:12]}…)",
                "use another --store folder, or reinstall the embedding model it was built with",
            )
        return collection

    def close(self) -> None:
        if self._lock is not None and self._lock.is_locked:
            self._lock.release()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -----------------------------------------------------------------------------------------

    def stale(self, passages: list[Passage]) -> set[str]:
        """Ids of the passages that are not in the library with exactly this text."""
        stored: dict[str, str] = {}
        ids = [p.id for p in passages]
        for i in range(0, len(ids), 500):
            got = self._collection.get(ids=ids[i : i + 500], include=["documents"])
            stored.update(zip(got["ids"], got["documents"], strict=True))
        return {p.id for p in passages if stored.get(p.id) != p.text}

    def add(self, passages: list[Passage], batch_size: int = 64) -> int:
        """Embed the passages the library lacks, or holds with other text (a paper read from
        its abstract once and from its full text later); return how many were embedded."""
        todo = self.stale(passages)
        new = [p for p in passages if p.id in todo]
        if new:
            self._lexical.clear()
        for i in range(0, len(new), batch_size):
            batch = new[i : i + batch_size]
            vectors = self.embedder.embed([p.text for p in batch])
            with self._same_dimension():
                self._collection.upsert(
                    ids=[p.id for p in batch],
                    documents=[p.text for p in batch],
                    embeddings=vectors,
                    metadatas=[
                        {
                            "paper_id": p.paper_id,
                            "section": p.section,
                            "char_start": p.char_start,
                            "char_end": p.char_end,
                        }
                        for p in batch
                    ],
                )
        return len(new)

    @contextlib.contextmanager
    def _same_dimension(self) -> Iterator[None]:
        """A vector of another length than the collection's is a changed embedding model
        behind the same name (a remote endpoint can do that): say so, not Chroma's words."""
        try:
            yield
        except Exception as error:
            if "dimension" not in str(error).lower():
                raise
            raise BadInput(
                f"the library collection {collection_name(self.embedder.name)} holds vectors "
                f"of another length than {self.embedder.name} now returns",
                "check --embedding-model, or use another --store",
            ) from None

    def _query_vector(self, text: str) -> list[float]:
        # The session asks the same queries once per paper; embed each text only once.
        if text not in self._query_vectors:
            self._query_vectors[text] = self.embedder.embed([text])[0]
        return self._query_vectors[text]

    def search(
        self,
        text: str,
        *,
        paper_ids: list[str] | None,
        k: int,
        exclude: Iterable[str] = (),
        hybrid: bool = True,
    ) -> list[Evidence]:
        """The k passages that best match `text` among `paper_ids` (None: the whole library):
        the dense ranking fused with BM25's when `hybrid`, the dense one alone otherwise.
        Each passage's score is its embedding similarity to `text`."""
        excluded = set(exclude)
        where = self._where(paper_ids)
        if where == {}:
            return []
        vector = self._query_vector(text)
        pool = max(k, POOL) + len(excluded)
        with self._same_dimension():
            result = self._collection.query(
                query_embeddings=[vector],
                n_results=pool,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        found: dict[str, Evidence] = {}
        for pid, doc, meta, dist in zip(
            result["ids"][0],
            result["documents"][0],
            result["metadatas"][0],
            result["distances"][0],
            strict=True,
        ):
            if pid not in excluded:
                found[pid] = Evidence(
                    passage_id=pid,
                    paper_id=str(meta["paper_id"]),
                    text=doc,
                    score=round(1.0 - float(dist), 4),
                )
        # Ties in similarity are ordered by id so every run sees the same evidence order.
        dense = sorted(found, key=lambda i: (-found[i].score, i))
        if not hybrid:
            return [found[i] for i in dense[:k]]
        lexical = [
            i for i, _ in self._lexical_index(paper_ids).top(text, pool) if i not in excluded
        ]
        chosen = fused([dense, lexical], k)
        found.update(self._evidence([i for i in chosen if i not in found], vector))
        return [found[i] for i in chosen]

    def passages(self, text: str, passage_ids: list[str]) -> dict[str, Evidence]:
        """The passages `passage_ids` names, each as evidence scored by its embedding
        similarity to `text`."""
        if not passage_ids:
            return {}
        with self._same_dimension():
            return self._evidence(list(dict.fromkeys(passage_ids)), self._query_vector(text))

    def similarities(self, texts: list[str], passage_ids: list[str]) -> dict[str, float]:
        """Each passage's highest embedding similarity (cosine) to any of `texts`, over every
        one of `passage_ids`: the filter that decides what a model reads scores them all,
        not the nearest few an index returns."""
        if not texts or not passage_ids:
            return {}
        queries = self._query_matrix(texts)
        out: dict[str, float] = {}
        for i in range(0, len(passage_ids), 500):
            got = self._collection.get(ids=passage_ids[i : i + 500], include=["embeddings"])
            if not len(got["embeddings"]):
                continue
            best = best_cosines(got["embeddings"], queries)
            out.update({pid: round(float(s), 4) for pid, s in zip(got["ids"], best, strict=True)})
        return out

    def text_similarities(
        self, texts: list[str], queries: list[str], batch_size: int = 64
    ) -> list[float]:
        """Each of `texts` (sentences, not stored) embedded and scored against `queries`: its
        highest cosine similarity to any of them."""
        if not texts or not queries:
            return [0.0] * len(texts)
        wanted = self._query_matrix(queries)
        out: list[float] = []
        for i in range(0, len(texts), batch_size):
            rows = self.embedder.embed(texts[i : i + batch_size])
            out += [round(float(s), 4) for s in best_cosines(rows, wanted)]
        return out

    def _query_matrix(self, texts: list[str]) -> np.ndarray:
        """The unit vectors of `texts` as queries, one row each."""
        return unit_rows([self._query_vector(t) for t in texts])

    def word_scores(self, queries: list[str], paper_ids: list[str]) -> dict[str, float]:
        """Each passage of `paper_ids` with its best BM25 score for any of `queries` (passages
        that share no word with them are left out)."""
        index = self._lexical_index(paper_ids)
        out: dict[str, float] = {}
        for query in queries:
            for pid, value in index.top(query, len(index.ids)):
                out[pid] = max(out.get(pid, 0.0), round(value, 4))
        return out

    @staticmethod
    def _where(paper_ids: list[str] | None) -> dict[str, Any] | None:
        """Chroma's filter for passages of `paper_ids`: None for all, {} for none."""
        if paper_ids is None:
            return None
        if not paper_ids:
            return {}
        if len(paper_ids) == 1:
            return {"paper_id": paper_ids[0]}
        return {"paper_id": {"$in": sorted(paper_ids)}}

    def _lexical_index(self, paper_ids: list[str] | None) -> Bm25:
        """BM25 over the passages of `paper_ids`, built once per set of papers (a run asks
        every claim among the same papers) and again after passages are added."""
        key = None if paper_ids is None else tuple(sorted(paper_ids))
        if key not in self._lexical:
            got = self._collection.get(where=self._where(paper_ids), include=["documents"])
            self._lexical[key] = Bm25(dict(zip(got["ids"], got["documents"], strict=True)))
        return self._lexical[key]

    def _evidence(self, ids: list[str], vector: list[float]) -> dict[str, Evidence]:
        """Passages found by their words alone, with their embedding similarity to the
        query computed from the stored vectors (cosine, as the collection measures it)."""
        if not ids:
            return {}
        got = self._collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        query = np.asarray(vector, dtype=np.float64)
        out = {}
        for pid, doc, meta, stored in zip(
            got["ids"], got["documents"], got["metadatas"], got["embeddings"], strict=True
        ):
            row = np.asarray(stored, dtype=np.float64)
            cosine = float(row @ query / max(np.linalg.norm(row) * np.linalg.norm(query), 1e-12))
            out[pid] = Evidence(
                passage_id=pid, paper_id=str(meta["paper_id"]), text=doc, score=round(cosine, 4)
            )
        return out
