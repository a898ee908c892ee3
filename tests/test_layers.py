"""No module of synth imports, directly or through others, a module that imports it back.

`lint-imports` (in .ci/run) checks that the layers import downward; this checks the modules
within a layer too, counting the imports made inside functions."""

from __future__ import annotations

import grimp


def test_no_import_cycle_among_synth_modules():
    graph = grimp.build_graph("synth")
    modules = sorted(m for m in graph.modules if not m.startswith("synth.tests"))
    imports = {
        m: sorted(x for x in graph.find_modules_directly_imported_by(m) if x in modules)
        for m in modules
    }
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        path.append(module)
        for other in imports[module]:
            if state.get(other) == "open":
                cycles.append([*path[path.index(other) :], other])
            elif other not in state:
                visit(other, path)
        path.pop()
        state[module] = "done"

    for module in modules:
        if module not in state:
            visit(module, [])
    assert not cycles, [" -> ".join(c) for c in cycles]
