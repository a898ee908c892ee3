"""Planner: the question becomes sub-questions and concrete searches."""

from __future__ import annotations

from synth.agents import prompts
from synth.agents.llm import Model
from synth.agents.schemas import Plan, PlanDraft, Search

MAX_TOKENS = 600


async def plan(model: Model, question: str, sources: list[str]) -> Plan:
    template = prompts.load("planner")
    draft = await model.ask(
        agent="planner",
        item="plan",
        prompt=template,
        messages=template.messages(question=question, sources=", ".join(sources)),
        schema=PlanDraft,
        max_tokens=MAX_TOKENS,
    )
    searches = [
        Search(query=s.query, source=source, rationale=s.rationale)
        for source in sources
        for s in draft.searches
    ]
    return Plan(question=question, sub_questions=draft.sub_questions, searches=searches)
