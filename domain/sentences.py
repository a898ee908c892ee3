"""What a sentence of a paper does, told by code: reports this paper's own result, reports what
another work found, or neither (background, aims, methods).

A paper's answer to a question is read from its own results. Its introduction often reports
what other works found, and those sentences can state the opposite of the paper's result
("Okafor et al. (2016) found no effect"); they are never this paper's finding. Both rules are
deliberately simple patterns: their recall of gold decisive sentences, and how many
related-work sentences they catch, are measured by `bench/depth.py`.
"""

from __future__ import annotations

import re

# A citation or a reference to earlier work: "Okafor et al. (2016)", "[4]", "(Reyes, 2019)",
# "previous studies", "it is widely reported", "is often credited with".
_CITATION = re.compile(
    r"\bet al\b"
    r"|\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]"
    r"|\(\s*[A-Z][\w'’-]+(?:\s+(?:and|&)\s+[A-Z][\w'’-]+|\s+et al\.?)?,?\s+(?:19|20)\d\d[a-z]?"
    r"(?:\s*[;,]\s*[^()]*?(?:19|20)\d\d[a-z]?)*\s*\)"
    r"|\b[A-Z][\w'’-]+(?:\s+(?:and|&)\s+[A-Z][\w'’-]+)?\s+\(\s*(?:19|20)\d\d[a-z]?\s*\)"
)
# A finding handed to earlier work in words: "previous studies", "it is widely reported".
_HANDED_ON = re.compile(
    r"\b(?:previous|prior|earlier|past|other|several|many|some|most|numerous|recent)\s+"
    r"(?:\w+\s+)?(?:studies|work|works|reports|research|trials|experiments|authors|groups"
    r"|investigations|analyses|reviews|meta-analyses)\b"
    r"|\b(?:a|an|one|the)\s+(?:previous|prior|earlier|recent)\s+(?:\w+\s+)?"
    r"(?:study|trial|review|meta-analysis|report|experiment|analysis|survey)\b"
    r"|\b(?:has|have|had)\s+(?:\w+\s+)?been\s+(?:widely\s+|repeatedly\s+|often\s+|commonly\s+)?"
    r"(?:reported|shown|found|suggested|proposed|credited|described|documented|observed"
    r"|demonstrated|attributed)\b"
    r"|\b(?:is|are|was|were)\s+(?:widely|commonly|generally|often|frequently|usually)\s+"
    r"(?:reported|believed|assumed|thought|accepted|credited|cited|recommended|held)\b"
    r"|\bit\s+is\s+(?:widely\s+|commonly\s+|generally\s+|well\s+)?(?:known|believed|thought"
    r"|assumed|accepted|reported)\b"
    r"|\b(?:studies|reports|trials|experiments|authors|others|researchers)\s+have\s+\w+"
    r"|\b(?:in|from)\s+the\s+literature\b"
    r"|\b(?:reported|proposed|described)\s+by\b"
    r"|\baccording\s+to\b",
    re.IGNORECASE,
)

# An effect measured or compared: a change in a direction, a difference or its absence.
_EFFECT = re.compile(
    r"\b(?:reduc|decreas|increas|lower|rais|improv|prevent|remov|cut|halv|doubl|elevat"
    r"|suppress|enhanc|inhibit|impair|attenuat|abolish|restor|accelerat|delay|shorten"
    r"|lengthen|outperform|exceed|diverg|converg|protect|worsen|boost|limit|slow|speed"
    r"|stabili[sz]|destabili[sz]|reverse|alter|affect|chang|differ|correlat|associat|predict"
    r"|induc|promot|activat|block|rescu|repair|mitigat|amplif|diminish|eliminat|declin"
    r"|rose|fell|drop|benefit|harm)\w*\b",
    re.IGNORECASE,
)
# Numbers that report a measurement rather than a setting: percentages, ratios, p-values,
# confidence intervals, "from A to B", "N of M".
_MEASURED = re.compile(
    r"\d\s*(?:%|percent|per cent|-fold|fold|times)\b|\d\s*%"
    r"|\bp\s*[<=>≤≥]\s*0?\.\d|\bconfidence interval\b|\b\d+\s*%?\s*CI\b|\bCI\b"
    r"|\bfrom\s+[\d.]+\s*\S*\s+to\s+[\d.]+"
    r"|\b\d+\s+(?:of|out of)\s+(?:the\s+)?\d+\b|\b(?:in|of)\s+(?:all|every|none\s+of)\s+\d+"
    r"|\b(?:odds|hazard|risk)\s+ratio\b|\b(?:OR|HR|RR)\s*[=:]?\s*\d",
    re.IGNORECASE,
)
# A comparison or its absence, in words.
_COMPARED = re.compile(
    r"\b(?:than|compared\s+(?:with|to)|relative\s+to|versus|whereas|while)\b"
    r"|\b(?:no|not|without)\s+(?:\w+\s+){0,2}(?:significant|measurable|detectable|appreciable"
    r"|difference|effect|change|benefit|reduction|increase|improvement)\w*"
    r"|\b(?:did|does|do|was|were|is|are)\s+not\s+(?:\w+\s+)?(?:significantly\s+)?\w+"
    r"|\bwith\s+or\s+without\b|\bequally\b|\bunchanged\b|\bunaffected\b|\bsimilar\b|\bthe\s+same\b|\bindistinguishable\b"
    r"|\bsignificant(?:ly)?\b",
    re.IGNORECASE,
)
# A difference found absent: a result whatever its verb.
_NO_DIFFERENCE = re.compile(
    r"\bequally\b|\bwith\s+(?:and|or)\s+without\b|\bunchanged\b|\bunaffected\b"
    r"|\bindistinguishable\b|\bno\s+(?:\w+\s+)?difference\b|\bdid\s+not\s+differ\b"
    r"|\bthe\s+same\s+as\b",
    re.IGNORECASE,
)
# This paper speaking of its own findings.
_OWN_FINDING = re.compile(
    r"\b(?:we|our)\s+(?:\w+\s+)?(?:found|find|show|showed|shown|observed|observe|demonstrate"
    r"|demonstrated|report|identified|identify|conclude|results?|data|findings|analysis"
    r"|analyses|experiments?|trials?|measurements?)\b"
    r"|\b(?:these|our|the)\s+(?:results|findings|data|observations)\s+(?:show|suggest|indicate"
    r"|demonstrate|reveal|establish|support)\b"
    r"|\bhere\s+we\b|\bin\s+this\s+(?:study|trial|work|paper|experiment)\b"
    r"|^(?:results?|conclusions?|findings|interpretation)\b"  # a structured abstract's label
    r"|\b(?:revealed|showed|shows|showing|indicated|indicates|demonstrated|demonstrates"
    r"|confirmed|established)\s+that\b",
    re.IGNORECASE,
)
# Aims, hypotheses and open questions: about a result, but not one.
_AIM = re.compile(
    r"^(?:to\s+(?:determine|test|assess|examine|investigate|evaluate|explore|address|compare)"
    r"|the\s+(?:aim|purpose|objective|goal)s?\b|(?:objective|background|purpose|aims?)\s*:)"
    r"|\b(?:we|this\s+study)\s+(?:aimed|sought|set\s+out|asked|hypothesi[sz]ed|investigated"
    r"|examined|tested|evaluated|assessed|explored|compared|describe|present)\b"
    r"|\bwe\s+(?:report|describe|present|measured|monitored|recorded|compared|used)\b(?!\s+that\b)"
    r"|\b(?:remains?|is|are)\s+(?:unclear|unknown|uncertain|poorly\s+understood|debated"
    r"|controversial)\b|\blittle\s+is\s+known\b|\bwhether\b",
    re.IGNORECASE,
)


def reports_other_work(sentence: str) -> bool:
    """Whether `sentence` reports or cites what another work found: a citation ("et al.",
    "[4]", "(Reyes, 2019)") or a phrase that hands a finding to earlier work ("previous
    studies", "has been reported", "is often credited with")."""
    return bool(_CITATION.search(sentence) or _HANDED_ON.search(sentence))


# A statement of what usually happens, rather than what was observed here.
_GENERIC = re.compile(
    r"\b(?:often|usually|commonly|generally|typically|frequently|traditionally|widely)\b"
    r"|\b(?:is|are)\s+(?:known|thought|believed|assumed|considered|expected)\b",
    re.IGNORECASE,
)
# A possibility or a recommendation rather than an observation: "could increase", "may help".
_HEDGED = re.compile(r"\b(?:could|would|might|may|should)\s+(?:\w+\s+)?\w+", re.IGNORECASE)


# A result counted over cases: "all 36 runs", "in 60 runs", "across 48 plots" (not a year:
# "in 2019 the rules changed").
_OVER_CASES = re.compile(r"\b(?:all|in|across|over)\s+\d{1,3}(?:,\d{3})?\s+[a-z-]+s\b", re.I)


def states_measurement(sentence: str) -> bool:
    """Whether `sentence` gives a measured result: a percentage, a change from one value to
    another, a count of cases, a p-value, a ratio or an interval. Wider than what makes a
    sentence a result for the reading filter (`reports_result`)."""
    return bool(_MEASURED.search(sentence) or _OVER_CASES.search(sentence))


def reports_result(sentence: str) -> bool:
    """Whether `sentence` reports a result: an effect measured or compared (a change, a
    difference or its absence, with numbers or in words), or a finding the paper states as
    its own. Aims, hypotheses, open questions and possibilities are not results."""
    measured = bool(_MEASURED.search(sentence))
    if (_AIM.search(sentence) or _HEDGED.search(sentence)) and not measured:
        return False
    if _OWN_FINDING.search(sentence):
        return True
    if _GENERIC.search(sentence) and not measured:
        return False
    return bool(_EFFECT.search(sentence) or _NO_DIFFERENCE.search(sentence)) or (
        measured and bool(_COMPARED.search(sentence))
    )
