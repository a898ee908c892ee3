"""The report as one self-contained HTML file: no JavaScript, no outside resources.

Every citation is a link to its reference, every claim id a link to the claim, and each claim
opens (`<details>`) to its verbatim quote, the passage it came from, and its verdict with the
evidence passages. All text is escaped: words from papers and models are never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from synth.domain.records import Label, Passage, Reference, Report, ReportClaim
from synth.report import figures
from synth.report.answers import ANSWERS_HEADING, SIDES_INTRO, answer_sides, answer_summary
from synth.report.figures import Chart
from synth.report.render import (
    MARKS,
    RULE_NOTE_SHORT,
    as_sentence,
    authors_text,
    by_rule,
    glance,
    sureness,
)
from synth.report.reviews import (
    REVIEW_NOTE,
    justified,
    review_heading,
    revision_outcome,
    score_table,
)

STYLE = """
body { font: 16px/1.55 Georgia, 'Times New Roman', serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.7rem; line-height: 1.25; } h2 { margin-top: 2.2rem; border-bottom: 1px solid
#ddd; } table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .3rem .45rem; vertical-align: top; text-align: left; }
blockquote { margin: .4rem 0; padding: .3rem .8rem; border-left: 3px solid #999; background:
#f6f6f6; } details { margin: .4rem 0; } summary { cursor: pointer; }
.meta, .small { color: #555; font-size: .9rem; } .label { font: bold .8rem sans-serif; }
.SUPPORTED { color: #176b2c; } .CONTRADICTED { color: #a11; } .INSUFFICIENT { color: #7a5b00; }
:target { background: #fff6d5; } .filter { margin: .2rem 0; font-size: .9rem; }
.explorer input { position: absolute; opacity: 0; } .filter label { cursor: pointer;
margin-right: .5rem; } figure { margin: 1rem 0; } figure svg { max-width: 100%;
height: auto; } figcaption { color: #555; font-size: .9rem; }
td.supports { background: #e3f3e6; } td.contradicts { background: #f8dede; }
td.mixed { background: #f7efd6; } table.matrix { width: auto; }
.matrix td { min-width: 2.2rem; } td.supports, td.contradicts, td.mixed, td.silent {
text-align: center; }
"""


def _cite(refs: list[int]) -> str:
    if not refs:
        return ""
    links = ", ".join(f'<a href="#ref-{n}">{n}</a>' for n in refs)
    return f"[{links}]"


def on_page(claim_id: str) -> str:
    """Where a claim id links to in the standalone file: the claim further down the page."""
    return f"#claim-{claim_id}"


def _claim_links(ids: list[str], href: Callable[[str], str]) -> str:
    return ", ".join(f'<a href="{escape(href(i))}">{escape(i)}</a>' for i in ids)


def _figure(chart: Chart | None) -> str:
    """A chart as inline SVG with its caption; the page stays one self-contained file."""
    if chart is None:
        return ""
    svg = chart.svg()
    chart.close()
    svg = svg[svg.index("<svg") :]
    return (
        f'<figure id="figure-{chart.name}">{svg}<figcaption>{escape(chart.caption)}'
        "</figcaption></figure>"
    )


def _agreement(report: Report) -> list[str]:
    if not report.agreement.rows:
        return []
    head = "".join(f"<th>{_cite([r])}</th>" for r in report.agreement.refs)
    rows = [
        f"<tr><td>{row.finding}</td>"
        + "".join(f'<td class="{c}">{MARKS[c]}</td>' for c in row.cells)
        + "</tr>"
        for row in report.agreement.rows
    ]
    return [
        "<p>Where each cited paper stands on each finding (+ supports, − contradicts, ± both, "
        "· silent), from the claims a finding rests on and the verifier's judgement of every "
        "passage offered as evidence.</p>",
        f'<table class="matrix"><tr><th>Finding</th>{head}</tr>',
        *rows,
        "</table>",
        _figure(figures.agreement_heatmap(report)),
    ]


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def _passage_block(passage: Passage | None, passage_id: str, ref: int | None) -> str:
    where = f"passage {escape(passage_id)}"
    if passage is None:
        return f'<p class="small">{where} (text not in this run folder)</p>'
    source = f" of {_cite([ref])}" if ref else ""
    return (
        f'<p class="small">{where}{source}, section “{escape(passage.section)}”, characters '
        f"{passage.char_start}–{passage.char_end} of the paper's text</p>"
        f"<blockquote>{escape(passage.text)}</blockquote>"
    )


def _claim(
    claim: ReportClaim,
    passages: dict[str, Passage],
    refs_by_paper: dict[str, int],
    rule_scored: bool = False,
) -> str:
    label = claim.label.value
    confidence = f"{claim.confidence:.2f}" + (f" ({RULE_NOTE_SHORT})" if rule_scored else "")
    evidence = (
        "".join(
            f"<details><summary>Evidence {escape(pid)}</summary>"
            f"{_passage_block(passages.get(pid), pid, refs_by_paper.get(pid.split('#', 1)[0]))}"
            "</details>"
            for pid in claim.evidence
        )
        or '<p class="small">No evidence passage bore on this claim.</p>'
    )
    return (
        f'<details id="claim-{escape(claim.id)}" class="claim v-{label} p-{claim.ref or "none"} '
        f'c-{_confidence_bin(claim.confidence)}"><summary><b>{escape(claim.id)}</b> '
        f"{escape(claim.text)} {_cite([claim.ref] if claim.ref else [])} "
        f'<span class="label {label}">{label} {claim.confidence:.2f}</span></summary>'
        f"<p><b>Quote</b> (verbatim{'' if claim.quote_found else ', not located'}):</p>"
        f"<blockquote>{escape(claim.quote)}</blockquote>"
        f"<p><b>Passage</b>:</p>"
        f"{_passage_block(passages.get(claim.passage_id), claim.passage_id, claim.ref)}"
        f'<p><b>Verdict</b>: <span class="label {label}">{label}</span>, confidence '
        f"{confidence}. {escape(claim.rationale)}</p>{evidence}</details>"
    )


CONFIDENCE_BINS = (
    ("high", 0.8, "0.80 or more"),
    ("mid", 0.5, "0.50–0.79"),
    ("low", 0.0, "under 0.50"),
)


def _confidence_bin(confidence: float) -> str:
    return next(name for name, low, _ in CONFIDENCE_BINS if confidence >= low)


def _explorer(report: Report) -> list[str]:
    """Filters for the claims by verdict, paper and confidence, in HTML and CSS only: each
    filter is a group of radio buttons, and a checked one hides the claims that do not match
    (the groups combine)."""
    groups = {
        "v": [("all", "all verdicts")] + [(v.value, v.value.lower()) for v in Label],
        "p": [("all", "all papers")]
        + [(str(r.n), f"[{r.n}]") for r in report.references]
        + ([("none", "uncited")] if any(c.ref is None for c in report.claims) else []),
        "c": [("all", "any confidence")] + [(name, text) for name, _, text in CONFIDENCE_BINS],
    }
    titles = {"v": "Verdict", "p": "Paper", "c": "Confidence"}
    controls, hide, chosen = [], [], []
    for group, options in groups.items():
        for value, _ in options:
            ident = f"f{group}-{value}"
            checked = " checked" if value == "all" else ""
            controls.append(f'<input type="radio" name="f{group}" id="{ident}"{checked}>')
            chosen.append(f'#{ident}:checked ~ p label[for="{ident}"]')
            if value != "all":
                hide.append(f"#{ident}:checked ~ .claims .claim:not(.{group}-{value})")
    # The radio buttons precede the label paragraphs and the claims as siblings, which is
    # what lets the CSS rules reach them; the buttons themselves are hidden, the labels show
    # which filter is on.
    paragraphs = [
        f'<p class="filter"><b>{titles[g]}:</b> '
        + " ".join(f'<label for="f{g}-{v}">{escape(t)}</label>' for v, t in options)
        + "</p>"
        for g, options in groups.items()
    ]
    style = (
        f"<style>{', '.join(hide)} {{ display: none; }} {', '.join(chosen)} "
        "{ font-weight: bold; text-decoration: underline; }</style>"
    )
    return [style, '<div class="explorer">', *controls, *paragraphs]


def _reference(ref: Reference) -> str:
    link = f"https://doi.org/{ref.doi}" if ref.doi else ref.url
    title = escape(as_sentence(ref.title))
    title_html = f'<a href="{escape(link)}">{title}</a>' if link else title
    venue = f" <i>{escape(ref.venue)}</i>." if ref.venue else ""
    extra = " (Read from the abstract only.)" if not ref.full_text_available else ""
    if ref.id.startswith("local:"):
        extra += f" Local file ({escape(ref.id)})."
    return (
        f'<li id="ref-{ref.n}" value="{ref.n}">{escape(authors_text(ref.authors))} '
        f"({ref.year or 'n.d.'}). {title_html}{venue}{extra}</li>"
    )


def to_html(
    report: Report,
    passages: dict[str, Passage],
    claim_href: Callable[[str], str] = on_page,
    header: str = "",
) -> str:
    """The page; `claim_href` says where claim ids link to and `header` is markup put first in
    the body (the run browser passes its own links for both)."""
    s = report.stats
    refs_by_paper = {r.id: r.n for r in report.references}
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head><body>",
        *([header] if header else []),
        f"<h1>{escape(report.title)}</h1>",
        f"<p><b>Research question:</b> {escape(report.question)}</p>",
        f'<p class="meta">Run {escape(report.run_id)}, {escape(report.created)}. Models: '
        + escape(", ".join(f"{a}: {m}" for a, m in sorted(report.models.items())))
        + ".</p>",
        f"<p><b>At a glance:</b> {escape(glance(report))}</p>",
        *(
            [f"<p><b>{ANSWERS_HEADING}</b> {escape(answer_summary(report.answer))}</p>"]
            if report.answer is not None
            else []
        ),
        '<h2 id="abstract">Abstract</h2>',
        _paragraphs(report.sections["abstract"]),
        '<h2 id="introduction">1. Introduction</h2>',
        _paragraphs(report.sections["introduction"]),
        '<h2 id="findings">2. Findings</h2><ol>',
    ]
    for f in report.findings:
        sides = (
            f" (for: {_cite(f.supporting_refs)}; against: {_cite(f.disputing_refs)})"
            if f.disputing_refs
            else ""
        )
        against = (
            f"; disputed by {_claim_links(f.against_claim_ids, claim_href)}"
            if f.against_claim_ids
            else ""
        )
        out.append(
            f"<li>{escape(f.statement)} {_cite(f.refs)}"
            f'<br><span class="small">Evidence {escape(f.strength)}{sides}. Rests on claims '
            f"{_claim_links(f.claim_ids, claim_href)}{against}.</span></li>"
        )
    out.append("</ol>")
    out.append('<h2 id="contradictions">3. Agreement and contradictions</h2>')
    sides = answer_sides(report)
    if sides:
        out.append(f"<p>{SIDES_INTRO}</p><ul>")
        out += [
            f"<li><b>{s.side.capitalize()}</b> {_cite([s.ref])}"
            f"{', ' + _claim_links([s.claim_id], claim_href) if s.claim_id else ''}: "
            f"“{escape(s.quote)}”</li>"
            for s in sides
        ]
        out.append("</ul>")
    out += _agreement(report)
    if not report.contradictions:
        out.append(
            "<p>No claim was contradicted by evidence from the other papers, and no finding "
            "names a disagreeing claim.</p>"
        )
    captions = {
        None: "Claims that passages of other papers contradict, with both sides quoted:",
        "named": "Claims that disagree with a finding, against the claims it rests on:",
    }
    for c in report.contradictions:
        kind = None if c.finding is None else "named"
        if kind in captions:
            out.append(f"<p><b>{escape(captions.pop(kind))}</b></p>")
        against = sorted({int(e["ref"]) for e in c.evidence})
        if c.finding is None:
            head = f"contradicted by {_cite(against)}{escape(sureness(c))}"
            side = "Evidence"
        else:
            head = f"disagrees with finding {c.finding}, which rests on {_cite(against)}"
            side = f"Finding {c.finding}"
        out.append(
            f"<p>{_claim_links([c.claim_id], claim_href)} {escape(c.statement)} "
            f"{_cite([c.ref])}, {head}."
            f"</p><blockquote>Claim's source {_cite([c.ref])}: “{escape(c.quote)}”</blockquote>"
        )
        for e in c.evidence:
            out.append(
                f"<blockquote>{side} {_cite([int(e['ref'])])}: “{escape(str(e['text']))}”"
                "</blockquote>"
            )
    out += ['<h2 id="discussion">4. Discussion</h2>', _paragraphs(report.sections["discussion"])]
    out += ['<h2 id="method">5. Method</h2>', _paragraphs(report.sections["method"])]
    out.append(_figure(figures.funnel(report)))
    screening = report.screening
    if screening.excluded:
        out.append("<details><summary>Papers left out, with the reason</summary><table>")
        out.append("<tr><th>Paper</th><th>Reason</th></tr>")
        out += [
            f"<tr><td>{escape(e.title)}</td><td>{escape(e.reason)}</td></tr>"
            for e in screening.excluded
        ]
        out.append("</table></details>")
    out += ['<h2 id="limitations">6. Limitations</h2>', _paragraphs(report.sections["limitations"])]
    out += ['<h2 id="claims">7. Claims</h2>', _paragraphs(report.sections["confidence"])]
    out.append(_figure(figures.verdicts_per_paper(report)))
    out.append(_figure(figures.calibration_curve(report)))
    out += _explorer(report)
    out.append('<div class="claims">')
    out += [_claim(c, passages, refs_by_paper, by_rule(report, c)) for c in report.claims]
    out.append("</div></div>")
    out.append('<h2 id="reviews">8. Reviews</h2>')
    if any(not r.measured for r in report.reviews):
        header, *rows = score_table(report)
        out.append(f"<p>{escape(REVIEW_NOTE)}</p><table>")
        out.append("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>")
        out += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows]
        out.append("</table>")
    for revision in report.revisions:
        outcome = revision_outcome(revision)
        out.append(
            f"<p><b>{escape(revision.step.capitalize())}</b> {escape(outcome)}. "
            "It was asked to:</p><ul>"
            + "".join(f"<li>{escape(r)}</li>" for r in revision.requests)
            + "</ul>"
        )
    for review in report.reviews:
        out.append(
            f"<details><summary>{escape(review_heading(review))}"
            "</summary><table><tr><th>Criterion</th><th>Score</th><th>Justification</th></tr>"
        )
        out += [
            f"<tr><td>{escape(k.replace('_', ' '))}</td><td>{v.score}</td>"
            f"<td>{escape(justified(v))}</td></tr>"
            for k, v in review.scores.items()
        ]
        out.append("</table>")
        if review.requests:
            out.append("<ul>" + "".join(f"<li>{escape(r)}</li>" for r in review.requests) + "</ul>")
        out.append("</details>")
    out.append('<h2 id="references">References</h2><ol>')
    out += [_reference(r) for r in report.references]
    out.append("</ol>")
    out.append('<h2 id="statistics">Run statistics</h2><table>')
    out += [
        f"<tr><td>{escape(k.replace('_', ' '))}</td><td>{escape(str(v))}</td></tr>"
        for k, v in s.model_dump().items()
    ]
    out.append("</table>")
    out.append('<h2 id="checks">Report checks</h2><ul>')
    out += [f"<li>{escape(line)}</li>" for line in report.lint]
    out.append("</ul></body></html>")
    return "\n".join(out) + "\n"
