"""Planner: the question becomes sub-questions and concrete searches."""

from __future__ import annotations

from synth.agents.schemas import PlanDraft
from synth.domain.records import Plan, Search
from synth.model import prompts
from synth.model.llm import Model

MAX_TOKENS = 600


async def plan(model: Model, question: str, sources: list[str]) -> Plan:
    template = prompts.load("planner")
    draft = await model.ask(
        agent="planner",
        item="plan",
        prompt=template,
        messages=template.messages(question=question),
        schema=PlanDraft,
        max_tokens=MAX_TOKENS,
    )
    # Small models repeat themselves; repeats add nothing, so they are dropped, not re-asked.
    sub_questions = list({q.lower(): q for q in draft.sub_questions}.values())
    queries = list({s.query.lower(): s for s in draft.searches}.values())
    searches = [
        Search(query=s.query, source=source, rationale=s.rationale)
        for source in sources
        for s in queries
    ]
    return Plan(question=question, sub_questions=sub_questions, searches=searches)
