"""No import cycle among the app's modules.

The graph is built from the source with `ast`, not by importing anything: an
edge runs from a module to each `campaigns` module it imports, to the module
itself where `from package import name` names a submodule. Imports under
`if TYPE_CHECKING:` never run and are left out.

A cycle hidden by moving an import into a function is still a cycle: two
modules that need each other. The second test looks inside functions too.
"""

import ast
from pathlib import Path

APP = "campaigns"
ROOT = Path(__file__).resolve().parent.parent


def app_modules() -> dict[str, Path]:
    """Every module of the app by dotted name (a package by its own name)."""
    modules = {}
    for path in (ROOT / APP).rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted modules an import statement may load, most specific first."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def _statements(tree: ast.Module, *, inside_functions: bool):
    """The import statements that run when the module is imported (and, if
    `inside_functions`, those that run when its functions are called)."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        if not inside_functions and isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        ):
            continue
        pending.extend(ast.iter_child_nodes(node))


def import_graph(*, inside_functions: bool) -> dict[str, set[str]]:
    modules = app_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), filename=str(path))
        targets = set()
        for statement in _statements(tree, inside_functions=inside_functions):
            names = _imported_names(statement, module, is_package)
            if isinstance(statement, ast.ImportFrom):
                # `from package import name`: the submodule `name` if there is
                # one, else the package itself.
                for name in names[:-1]:
                    targets.add(name if name in modules else names[-1])
            else:
                targets.update(names)
        graph[module] = {t for t in targets if t in modules and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_the_app_and_its_imports():
    graph = import_graph(inside_functions=False)
    assert "campaigns.services.sending.launch" in graph
    assert "campaigns.services" in graph["campaigns.tasks"]
    assert (
        "campaigns.services.sending.scheduling"
        in (graph["campaigns.services.sending.launch"])
    )


def test_the_search_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_module_level_import_cycle_among_the_app_modules():
    assert cycles(import_graph(inside_functions=False)) == []


def test_no_import_cycle_even_through_imports_inside_functions():
    assert cycles(import_graph(inside_functions=True)) == []
