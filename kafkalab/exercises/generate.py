"""Generate ``solutions/`` and ``exercises/`` from the marked reference code (one source of truth).

For each exercise: read the module's source with ``ast``, take the listed top-level symbols verbatim
(decorators, docstrings and comments included), keep the module's imports the symbols need
(relative ones made absolute), import the other module-level names they use from the package
module itself, and write two files:

* ``solutions/<id>.py`` — the reference code, marker lines removed;
* ``exercises/<id>.py`` — the same, with every marked region replaced by
  ``raise NotImplementedError("Exercise <id> — see <notebook>")``.

Output is deterministic. ``check`` regenerates in memory and lists files that differ (CI fails on
drift). ``generate`` refuses to overwrite an exercise file a learner has edited (its content no
longer matches the ``stub-sha256`` recorded in its header) unless forced.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from kafkalab.exercises.catalog import EXERCISES, Exercise

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN EXERCISE (?P<id>\w+)\s*$")
END = re.compile(r"^\s*# END EXERCISE\s*$")
STUB_HASH = re.compile(r"^# stub-sha256: (?P<hash>[0-9a-f]{64})$", re.M)
REPO_ROOT = Path(__file__).resolve().parents[2]


class ExerciseSourceError(ValueError):
    """The reference code's markers or symbols do not make a valid exercise."""


@dataclass(frozen=True)
class GeneratedFile:
    path: Path
    content: str


def module_path(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ExerciseSourceError(f"module {module!r} not found")
    return Path(spec.origin)


def _top_level_definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
    return found


def _segment(lines: list[str], node: ast.stmt) -> tuple[int, list[str]]:
    """The node's first line number and lines, decorators included, plus indented comment lines after it.

    The AST ends a function at its last statement, so a trailing ``# END EXERCISE`` after a
    ``return`` would be left out without the second step.
    """
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    end = node.end_lineno or node.lineno
    while end < len(lines) and (
        (lines[end].startswith((" ", "\t")) and lines[end].strip().startswith("#")) or END.match(lines[end])
    ):
        end += 1
    return start, lines[start - 1 : end]


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module of ``from <node.module> import …`` written inside ``module``."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    package = parts[: len(parts) - node.level + (1 if is_package else 0)]
    return ".".join(package + ([node.module] if node.module else []))


def _from_import(module: str, names: list[ast.alias]) -> str:
    """``from module import a, b as c`` on one line, or wrapped one name per line when long."""
    shown = [alias.name if alias.asname is None else f"{alias.name} as {alias.asname}" for alias in names]
    line = f"from {module} import {', '.join(shown)}"
    if len(line) <= 100:
        return line
    return f"from {module} import (\n" + "".join(f"    {name},\n" for name in shown) + ")"


def _needed_imports(tree: ast.Module, module: str, is_package: bool, used: set[str], helpers: list[str]) -> str:
    """The imports the exercise's code needs, as absolute imports, grouped (future, others, kafkalab).

    ``from __future__`` imports are always kept; of the module's other top-level imports, only the
    names the exercise uses; relative imports become ``from kafkalab.… import`` (the generated file
    lives outside the package); ``helpers`` (module-level names the exercise uses) are imported from
    the package module itself.
    """
    package = module.split(".")[0]
    future: list[str] = []
    other: list[str] = []
    own: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            source = _absolute(module, is_package, node)
            if source == "__future__":
                future.append(_from_import(source, node.names))
                continue
            names = [alias for alias in node.names if (alias.asname or alias.name) in used]
            if names:
                (own if source.split(".")[0] == package else other).append(_from_import(source, names))
        elif isinstance(node, ast.Import):
            names = [alias for alias in node.names if (alias.asname or alias.name).split(".")[0] in used]
            for alias in names:
                text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                (own if alias.name.split(".")[0] == package else other).append(text)
    if helpers:
        own.append(_from_import(module, [ast.alias(name) for name in helpers]))
    return "\n\n".join("\n".join(group) for group in (future, other, own) if group)


def extract(exercise: Exercise) -> tuple[str, str]:
    """The exercise's source as (solution text, stub text), without the generated header."""
    path = module_path(exercise.module)
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    definitions = _top_level_definitions(tree)
    missing = [name for name in exercise.symbols if name not in definitions]
    if missing:
        raise ExerciseSourceError(f"{exercise.id}: {', '.join(missing)} not defined at the top level of {exercise.module}")

    segments = {name: _segment(lines, definitions[name]) for name in exercise.symbols}
    bodies = ["\n".join(segment) for _, segment in segments.values()]
    covered = {start + i for start, segment in segments.values() for i in range(len(segment))}
    for number, line in enumerate(lines, start=1):
        begin = BEGIN.match(line)
        if begin and begin["id"] == exercise.id and number not in covered:
            raise ExerciseSourceError(
                f"{exercise.id}: marker at {path.name}:{number} is outside the catalog's symbols ({', '.join(exercise.symbols)})"
            )
    used = {node.id for body in bodies for node in ast.walk(ast.parse(textwrap.dedent(body))) if isinstance(node, ast.Name)}
    helpers = sorted(name for name in used if name in definitions and name not in exercise.symbols)
    imports = _needed_imports(tree, exercise.module, path.name == "__init__.py", used, helpers)

    solution_lines: list[str] = []
    stub_lines: list[str] = []
    for name, (start, segment) in segments.items():
        inside = False
        marked = 0
        for number, line in enumerate(segment, start=start):
            where = f"{path.name}:{number}"
            begin = BEGIN.match(line)
            if begin:
                if inside:
                    raise ExerciseSourceError(f"{exercise.id}: nested BEGIN EXERCISE at {where}")
                if begin["id"] != exercise.id:
                    raise ExerciseSourceError(f"{exercise.id}: marker for {begin['id']!r} found at {where}")
                inside = True
                marked += 1
                stub_lines.append(f'{begin["indent"]}raise NotImplementedError("Exercise {exercise.id} — see {exercise.notebook}")')
                continue
            if END.match(line):
                if not inside:
                    raise ExerciseSourceError(f"{exercise.id}: END EXERCISE without BEGIN at {where}")
                inside = False
                continue
            solution_lines.append(line)
            if not inside:
                stub_lines.append(line)
        if inside:
            raise ExerciseSourceError(f"{exercise.id}: BEGIN EXERCISE without END EXERCISE in {name} ({path.name})")
        if marked == 0:
            raise ExerciseSourceError(f"{exercise.id}: no '# BEGIN EXERCISE {exercise.id}' marker in {name} ({path.name}); every listed symbol needs one")
        solution_lines += ["", ""]
        stub_lines += ["", ""]

    preamble = imports + "\n\n\n" if imports else ""
    solution = preamble + "\n".join(solution_lines).rstrip() + "\n"
    stub = preamble + "\n".join(stub_lines).rstrip() + "\n"
    for kind, text in (("solution", solution), ("stub", stub)):
        try:
            ast.parse(text)
        except SyntaxError as error:
            raise ExerciseSourceError(
                f"{exercise.id}: the generated {kind} is not valid Python (line {error.lineno}: {error.msg}); "
                f"check the markers' indentation in {path.name}"
            ) from None
    return solution, stub


def _relative_module_file(exercise: Exercise) -> str:
    return module_path(exercise.module).relative_to(REPO_ROOT).as_posix()


def _header(exercise: Exercise, kind: str, body: str) -> str:
    source = _relative_module_file(exercise)
    doc = textwrap.fill(exercise.summary, 96, initial_indent="", subsequent_indent="")
    lines = [
        f'"""Exercise {exercise.id}: {exercise.title}.',
        "",
        doc,
        "",
        f"Read {exercise.notebook} first.",
    ]
    if kind == "exercise":
        lines += [
            "Fill in the bodies that raise NotImplementedError, then check your work with",
            "`kafkalab grade exercises` (or the \"check my work\" cell in the notebook).",
            "To start over: `python -m kafkalab exercises generate --force` (overwrites your edits).",
        ]
    else:
        lines += ["This is the reference solution: the package's own code."]
    lines += ['"""', "", ""]
    banner = [
        f"# GENERATED by `python -m kafkalab exercises generate` from {source}.",
        "# Developers: do not edit this file by hand — change the package and regenerate.",
    ]
    if kind == "exercise":
        banner.append(f"# stub-sha256: {hashlib.sha256(body.lstrip(chr(10)).encode('utf-8')).hexdigest()}")
    return "\n".join(banner) + "\n" + "\n".join(lines)


def render(exercise: Exercise, root: Path = REPO_ROOT) -> tuple[GeneratedFile, GeneratedFile]:
    """The (solution, exercise) files for one exercise."""
    solution_body, stub_body = extract(exercise)
    return (
        GeneratedFile(root / "solutions" / exercise.file_name, _header(exercise, "solution", solution_body) + solution_body),
        GeneratedFile(root / "exercises" / exercise.file_name, _header(exercise, "exercise", stub_body) + stub_body),
    )


def learner_edited(path: Path) -> bool:
    """True when an exercise file no longer matches the stub hash in its own header."""
    if not path.exists():
        return False
    text = path.read_text(encoding="utf-8")
    match = STUB_HASH.search(text)
    if match is None:
        return True
    body = text.split('"""', 2)[-1].lstrip("\n") if text.count('"""') >= 2 else text
    return hashlib.sha256(body.encode("utf-8")).hexdigest() != match["hash"]


def generate(root: Path = REPO_ROOT, force: bool = False, exercises: tuple[Exercise, ...] = EXERCISES) -> list[str]:
    """Write every solution and stub; returns what happened, one line per file."""
    report = []
    for exercise in exercises:
        for generated in render(exercise, root):
            generated.path.parent.mkdir(parents=True, exist_ok=True)
            current = generated.path.read_text(encoding="utf-8") if generated.path.exists() else None
            if current == generated.content:
                report.append(f"unchanged  {generated.path.relative_to(root)}")
                continue
            if generated.path.parent.name == "exercises" and learner_edited(generated.path) and not force:
                report.append(f"KEPT       {generated.path.relative_to(root)} (edited by you; --force overwrites it)")
                continue
            generated.path.write_text(generated.content, encoding="utf-8", newline="\n")
            report.append(f"written    {generated.path.relative_to(root)}")
    return report


def check(root: Path = REPO_ROOT, exercises: tuple[Exercise, ...] = EXERCISES) -> list[str]:
    """Files whose content differs from what generation would write (empty: in sync)."""
    drifted = []
    for exercise in exercises:
        for generated in render(exercise, root):
            current = generated.path.read_text(encoding="utf-8") if generated.path.exists() else None
            if current != generated.content:
                drifted.append(str(generated.path.relative_to(root)))
    return drifted
