"""Planner: the question becomes sub-questions and concrete searches."""

from __future__ import annotations

from synth.agents.schemas import PlanDraft, SubQuestionsDraft
from synth.domain.records import Plan, Search
from synth.model import prompts
from synth.model.llm import Model

MAX_TOKENS = 600


SEARCHES = "Give 2 to 4 sub-questions and 2 to 5 search queries, each with a one-line rationale."
# The papers are the user's own (no source is searched): the queries would go unused, and on the
# embedded model they and their rationales were two thirds of the planner's answer.
NO_SEARCHES = (
    "The papers are already chosen, so write no search queries: give 2 to 4 sub-questions."
)


async def plan(model: Model, question: str, sources: list[str], searched: bool = True) -> Plan:
    """Sub-questions, and for each of `sources` the searches; with `searched` off (no source
    is searched), sub-questions only."""
    template = prompts.load("planner")
    draft = await model.ask(
        agent="planner",
        item="plan",
        prompt=template,
        messages=template.messages(question=question, task=SEARCHES if searched else NO_SEARCHES),
        schema=PlanDraft if searched else SubQuestionsDraft,
        max_tokens=MAX_TOKENS,
    )
    # Small models repeat themselves; repeats add nothing, so they are dropped, not re-asked.
    sub_questions = list({q.lower(): q for q in draft.sub_questions}.values())
    drafted = draft.searches if isinstance(draft, PlanDraft) else []
    queries = list({s.query.lower(): s for s in drafted}.values())
    searches = [
        Search(query=s.query, source=source, rationale=s.rationale)
        for source in sources
        for s in queries
    ]
    return Plan(question=question, sub_questions=sub_questions, searches=searches)
