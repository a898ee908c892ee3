"""Text rules shared by the agents' drafts and the report: what makes a sentence a claim, what
prose a model may write (no counts, no citations, no ids), and how code tells a restatement from
an inversion or a loop without asking a model."""

from __future__ import annotations

import difflib
import itertools
import re
from typing import Annotated

from pydantic import StringConstraints

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1500)]

_META_PATTERNS = [
    r"\b(this|the|our|that) (paper|study|article|work|manuscript|report|section|appendix)\b",
    r"\b(the|these) authors?\b",
    r"\b(tables?|figures?|fig\.)\s*\d",
    r"\b(the|this|a) (table|figure|chart|plot)s? (shows?|lists?|presents?|includes?|contains?)\b",
    r"\bcolumns?\b.*\b(include|list|show|contain)",
    r"\b(presents?|provides?|includes?) (a |the )?(tables?|figures?|results?)\b",
    r"^(we|our|us)\b",
    r"\b(we|our)\s+(show|find|found|present|propose|report|observe|observed|describe)\b",
    r"\bin this (paper|study|work|article)\b",
]
_META = [re.compile(p, re.IGNORECASE) for p in _META_PATTERNS]
# Sentences that speak to a reader or a model rather than report something: a paper may carry
# them to steer the agents, and a claim goes into later prompts as plain text.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instructions?|prompts?|rules)\b"
    r"|\b(system|assistant|user)\s*:"
    r"|\byou (must|should|are to)\b"
    r"|\b(label|mark|rate|answer|respond)\b.{0,30}\b(every|all|each)\b.{0,30}\b(claims?|"
    r"passages?|papers?)\b",
    re.IGNORECASE,
)
_DANGLING = {"and", "or", "of", "the", "a", "an", "to", "with", "for", "in", "on", "by", "that"}


def claim_text_problem(text: str) -> str | None:
    """Why `text` is not an atomic, self-contained claim, or None when it is one."""
    stripped = text.strip()
    if not stripped:
        return "the claim is empty"
    words = stripped.split()
    if len(words) < 6:
        return "the claim is a fragment: write a full sentence of at least six words"
    if "|" in stripped or "\t" in stripped:
        return "the claim looks like a table fragment: state the finding as a sentence"
    wordlike = sum(1 for w in words if re.search(r"[A-Za-z]{2,}", w))
    if wordlike / len(words) < 0.6:
        return "the claim is mostly numbers or symbols: state the finding as a sentence"
    if words[-1].lower().strip(",;:-") in _DANGLING or stripped[-1] in ",;:-(":
        return "the claim is cut off: finish the sentence"
    if stripped.endswith("?"):
        return "the claim is a question: state what the passage reports"
    if not (stripped[0].isupper() or stripped[0].isdigit()) or stripped[-1] not in ".!":
        return "the claim is not a full sentence: start with a capital letter and end with a period"
    if _INSTRUCTION.search(stripped):
        return "the sentence gives instructions instead of reporting a result: leave it out"
    for pattern in _META:
        if pattern.search(stripped):
            return (
                "the claim talks about the paper instead of stating a finding; "
                "state the finding itself, without 'the paper', 'the authors', 'we' or tables"
            )
    return None


# A sentence that opens by pointing back ("It", "These models", "Such gains") leans on the one
# before it, so it is no claim as it stands.
_POINTS_BACK = re.compile(
    r"^(it|its|this|these|those|they|their|them|such|both|here|there|the latter|the former)\b",
    re.IGNORECASE,
)


def standalone_problem(sentence: str) -> str | None:
    """Why a paper's sentence cannot be a claim in its own words, or None when it can: it fails
    `claim_text_problem`, or it opens by pointing back to the sentence before it."""
    problem = claim_text_problem(sentence)
    if problem is None and _POINTS_BACK.match(sentence.strip()):
        return "the sentence points back to the one before it"
    return problem


# fmt: off
_STOP = {
    "that", "this", "with", "from", "were", "have", "been", "than", "into", "when", "which",
    "their", "there", "these", "those", "they", "also", "more", "less", "such", "over", "under",
    "between", "while", "about", "after", "before", "only", "both", "each", "other", "does",
}
# fmt: on


def content_stems(text: str) -> set[str]:
    words = re.findall(r"[a-z][a-z-]{3,}", text.lower())
    return {w[:5] for w in words if w not in _STOP}


_BRACKET_NUMBER = re.compile(r"\[\s*\d+(\s*[,;–-]\s*\d+)*\s*\]")
_COUNT = (
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"
    r"\s+(\w+\s+)?(papers|studies|articles|sources|documents|claims|works|publications)\b"
)
COUNTED = re.compile(_COUNT, re.IGNORECASE)
# "... is strong across 7 papers": the count adds nothing the code does not print itself.
_COUNT_PHRASE = re.compile(
    r",?\s+(?:across|from|in|by|among|over)\s+(?:all\s+|the\s+)?" + _COUNT, re.IGNORECASE
)


_CLAIM_ID = re.compile(r"\b[CF]\d+\b")
_LEAD_IN = re.compile(
    r"^(?:overall,\s*)?(?:the|these|both|all)\s+(?:\w+\s+){0,3}?"
    r"(?:claims?|papers?|studies|findings|results|evidence)\s+(?:together\s+|all\s+)?"
    r"(?:suggests?|shows?|indicates?|finds?|found|reports?|demonstrates?|states?)\s+that\s+",
    re.IGNORECASE,
)
_ID_LIST = re.compile(r"\s*\((?:claims?\s+)?[CF]\d+(?:\s*(?:,|and)\s*[CF]\d+)*\)")


STATEMENT_CHARS = 400  # the longest finding statement the schema takes
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?(?=\s|$)")


def whole_sentences(text: str, minimum: int = 40) -> str:
    """`text` without a trailing fragment: a length bound in the schema can cut a model off
    mid-sentence, and the sentences before the cut are still its own complete words."""
    text = text.strip()
    if not text or re.search(r"[.!?][\"')\]]?$", text):
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]] if ends and ends[-1] >= minimum else text


def tidy_statement(text: str, bound: int | None = None) -> str:
    """Code fixes three habits of small models instead of re-asking: a lead-in about the
    evidence ("The claims together suggest that …"), parenthesised claim ids, and a last
    sentence left without its full stop. A text shorter than its schema's `bound`
    (STATEMENT_CHARS by default) was ended by the model, not cut off by the bound: a cut at
    max_tokens is caught by the door, so only a text that reaches the bound can be a cut."""
    text = whole_sentences(_ID_LIST.sub("", text).strip())
    match = _LEAD_IN.match(text)
    if match and len(text) > match.end():
        rest = text[match.end() :]
        text = rest[0].upper() + rest[1:]
    limit = STATEMENT_CHARS if bound is None else bound
    if text and len(text) < limit - 1 and not re.search(r"[.!?][\"')\]]?$", text):
        text = text.rstrip(",;: ") + "."
    return text


_LISTING = re.compile(r"\b(SUPPORTED|CONTRADICTED|INSUFFICIENT)\b|confidence \d")


def prose_problem(text: str, complete: bool = True) -> str | None:
    """Rules for model-written prose: citations, claim links and counts are the code's job."""
    if _BRACKET_NUMBER.search(text):
        return "do not write bracketed numbers such as [1]; the code adds citations"
    if _CLAIM_ID.search(text) or _LISTING.search(text):
        return (
            "write plain prose: no claim or finding ids (C1, F2), no verdict labels and no "
            "confidence numbers; the code links the text to the claims"
        )
    if COUNTED.search(text):
        return "do not state how many papers, studies or claims there are; the code adds counts"
    if complete and not re.search(r"[.!?][\"')\]]?$", text.strip()):
        return "the text is cut off: finish every sentence, and write less so that it fits"
    return None


def prose_sentences(text: str) -> list[str]:
    """The sentences of model prose, split after a full stop, question or exclamation mark."""
    return [x for x in re.split(r"(?<=[.!?])\s+", text.strip()) if x]


def without_counts(text: str) -> str:
    """`text` less the phrases that count papers ("strong across 7 papers" becomes "strong"):
    small models copy the counts they are shown, and counts are the code's job."""
    return _COUNT_PHRASE.sub("", text)


def keeping_the_rules(text: str) -> str:
    """`text` less the sentences that break the prose rules, for salvaging a last answer."""
    return " ".join(s for s in prose_sentences(text) if prose_problem(s, complete=False) is None)


def within_the_rules(text: str) -> str:
    """`text` less its sentences that break the prose rules, where others remain: a small
    model asked again writes the whole section again and repeats the sentence (measured: a
    revision's limitations re-asked for one sentence that counted papers cost 90 s of a
    quick start). A section with no sentence within the rules is left for the validator to
    refuse, with the rule it broke."""
    kept = keeping_the_rules(text)
    return kept if kept else text


def check_prose(value: str, complete: bool = True) -> str:
    """`value` when it follows the prose rules; `complete` asks for whole sentences."""
    problem = prose_problem(value, complete)
    if problem:
        raise ValueError(problem)
    return value


_AIM = re.compile(
    r"^(?:this|the present|our|the current)\s+(?:study|review|report|synthesis|paper|analysis|"
    r"work|article|summary)\s+(?:investigates|examines|explores|assesses|evaluates|addresses|"
    r"aims|seeks|considers|looks|reviews|asks|sets out|set out|focuses)\b"
    r"|^we\s+(?:investigate|examine|explore|assess|evaluate|ask|review|set out|aim)\b",
    re.IGNORECASE,
)
_RESULT_WORDS = re.compile(
    r"\b(?:find|finds|found|show|shows|showed|shown|conclude|concludes|suggest|suggests|"
    r"indicate|indicates|reveal|reveals|report|reports|reported)\b",
    re.IGNORECASE,
)


def without_aims(abstract: str) -> str:
    """`abstract` less the sentences that only state what the synthesis set out to do ("This
    study investigates whether ..."): a small writer opens with them though asked to open with
    the answer, they restate the question the report prints above them, and "this study"
    misnames a synthesis of other people's studies. A sentence that goes on to give a result
    ("... and finds that ...") stays."""
    return " ".join(
        s for s in prose_sentences(abstract) if not _AIM.search(s) or _RESULT_WORDS.search(s)
    )


def without_repeats(abstract: str, text: str) -> str:
    """`text` without the sentences it copies from the abstract (small models often open the
    introduction or the discussion with the abstract again)."""
    kept = [x for x in prose_sentences(text) if not repeats(abstract, x)]
    return " ".join(kept)


ECHO_OVERLAP = 0.9  # share of the shorter sentence's words that makes it a repeat
ECHO_WORDS = 6  # shorter sentences ("Results vary.") may honestly recur
NEGATIONS = {"not", "no", "never", "without", "nor", "neither", "none", "t"}  # "t" of "didn't"


def plain_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


RESTATED_SHARE = 0.85  # share of a sentence's words in runs shared with its source
RESTATED_RUN = 3  # words in a row that count as shared
# Words that turn a statement into its opposite when added or dropped.
REVERSING = NEGATIONS | {"cannot", "fail", "failed", "fails", "lack", "lacked", "lacks", "unable"}


def restates(source: str, sentence: str) -> bool:
    """Whether `sentence` says again what `source` says, in its words: nearly all of its
    words lie in runs of three or more that `source` has in the same order, and no negation
    was dropped or added on the way ("did improve" does not restate "did not improve").
    A small judge has been seen to call a near-copy of a claim its opposite; code can tell a
    copy from an inversion without asking it."""
    said, src = plain_words(sentence), plain_words(source)
    if len(said) < ECHO_WORDS:
        return False
    blocks = [
        b
        for b in difflib.SequenceMatcher(None, src, said, autojunk=False).get_matching_blocks()
        if b.size >= RESTATED_RUN
    ]
    if sum(b.size for b in blocks) < RESTATED_SHARE * len(said):
        return False
    covered = {i for b in blocks for i in range(b.b, b.b + b.size)}
    added = {w for i, w in enumerate(said) if i not in covered}
    dropped = {w for a, b in itertools.pairwise(blocks) for w in src[a.a + a.size : b.a]}
    return not (added | dropped) & REVERSING


def without_echoes(text: str) -> str:
    """`text` less each sentence that says again, in nearly the same words, what an earlier
    sentence of it said: small models loop, writing one sentence or two over and over."""
    kept: list[tuple[str, set[str]]] = []
    for sentence in prose_sentences(text):
        words = set(plain_words(sentence))
        if len(words) >= ECHO_WORDS and any(
            len(words & seen) >= ECHO_OVERLAP * min(len(words), len(seen))
            and not (words ^ seen) & NEGATIONS  # "did not improve" is no echo of "did improve"
            for _, seen in kept
        ):
            continue
        kept.append((sentence, words))
    return " ".join(sentence for sentence, _ in kept)


def repeats(source: str, text: str) -> bool:
    """Whether `text` copies a sentence of eight words or more from `source`."""
    pieces = [p.strip(" .").lower() for p in prose_sentences(source)]
    lowered = text.lower()
    return any(len(p.split()) >= 8 and p in lowered for p in pieces)


def times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def table_cell(text: str) -> str:
    """Text fit for one cell of a Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ").strip()
