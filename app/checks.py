"""Checks of a run's settings made before any work starts (bad input leaves no run folder), and
the local corpus, read then too."""

from __future__ import annotations

from pathlib import Path

from synth import urls
from synth.app import config
from synth.app.ui import warn_line
from synth.domain.errors import BadInput
from synth.domain.records import PaperText
from synth.domain.settings import RunSettings
from synth.model.endpoint import OPENAI_URL
from synth.sources import arxiv
from synth.sources.literature import KNOWN_SOURCES, NETWORK_SOURCES
from synth.sources.local import load_folder


def check_sources(settings: RunSettings, corpus_needed: bool = True) -> None:
    unknown = [s for s in settings.literature.sources if s not in KNOWN_SOURCES]
    if unknown:
        raise BadInput(
            f"unknown source(s) {', '.join(unknown)}",
            f"choose --sources from {','.join(KNOWN_SOURCES)}",
        )
    if corpus_needed and "local" in settings.literature.sources and not settings.literature.corpus:
        raise BadInput(
            "--sources includes local but no folder was given", "pass --corpus with a folder"
        )
    if settings.literature.corpus and "local" not in settings.literature.sources:
        raise BadInput(
            "--corpus is read only by the local source, which --sources leaves out",
            f"use --sources {','.join([*settings.literature.sources, 'local'])}",
        )
    bad = [c for c in settings.literature.arxiv_categories if not arxiv.valid_category(c)]
    if bad:
        raise BadInput(f"'{bad[0]}' is not an arXiv category", "use a name such as cs.LG")


def network_sources(settings: RunSettings) -> list[str]:
    return [s for s in settings.literature.sources if s in NETWORK_SOURCES]


def uses_local_model(settings: RunSettings) -> bool:
    """The embedded model: `--model local` or `local:NAME`, with no base URL."""
    return config.is_local_model(settings.model.model, settings.model.base_url)


def check_offline(settings: RunSettings) -> None:
    """--offline: refuse, before any work, every endpoint that is not on this machine."""
    if not settings.paths.offline:
        return
    model_url = None if uses_local_model(settings) else (settings.model.base_url or OPENAI_URL)
    store_url = settings.paths.store if (settings.paths.store or "").startswith("http") else None
    for what, url in (
        ("model endpoint", model_url),
        ("store", store_url),
        ("embeddings endpoint", settings.retrieval.embeddings),
    ):
        if url is not None and not urls.is_local(url):
            raise BadInput(
                f"--offline refuses the {what} {urls.strip_credentials(url)}",
                "drop --offline or use one on 127.0.0.1",
            )
    if network_sources(settings):
        raise BadInput(
            f"--offline refuses the online sources {','.join(network_sources(settings))}",
            "work offline with --corpus DIR --sources local, or drop --offline",
        )


def load_corpus(settings: RunSettings) -> list[PaperText]:
    if "local" not in settings.literature.sources or not settings.literature.corpus:
        return []
    return load_folder(Path(settings.literature.corpus), warn=warn_line)
