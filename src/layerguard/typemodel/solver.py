"""Values that cross a function boundary: a flow-insensitive, whole-project inference.

How layerguard knows that `ticket` in `ticket = _get_ticket(pk); ticket.save()` is a
`Ticket`: the per-file facts carry a summary of every function (facts.FunctionSummary:
its return annotation and return expressions, its `self.x = ...` assignments, its calls
with their argument texts, and the local bindings those read), and this solver answers,
on demand and once per question per run:

- what a project function or method returns: its annotation (`-> Ticket`,
  `-> Optional[Ticket]`, `-> tuple[Board, bool]`, `-> QuerySet[Ticket]`), else the type
  every one of its `return` expressions agrees on (`return Basket.objects.get_or_create(...)[0]`);
- what a custom manager or queryset method returns (`Account.objects.for_user(user)`),
  `self` being a queryset of the model the manager was reached through;
- what an unannotated parameter holds: the type every call site in the project that passes
  something typable agrees on (`import_all(feed)` with `feed = get_object_or_404(Feed, ...)`);
  a call site passing something untypable is no evidence, two passing different types and
  it is unknown;
- what `self.x` / `obj.x` holds: a class attribute annotation (`account: Account` on an
  HttpRequest subclass) or the type every `self.x = ...` in the class agrees on.

Unknown means silence: disagreement, recursion and anything unresolved answer None.
What invalidates what: the summaries are part of each file's signature (facts.signature),
so changing a return, a call's arguments or a `self.x =` anywhere re-checks every file
(as changing an import does), while edits that leave them alone (conditions, constants,
moved lines) re-check the edited file only; a warm run where nothing changed reads
verdicts from the cache and never builds the solver.
"""

from __future__ import annotations

import ast
import pickle
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING

from layerguard.facts import FunctionFact, FunctionSummary, dotted_name

# Decorators whose method is read as an attribute: what the getter returns is the value.
PROPERTY_DECORATORS = ("property", "cached_property")

if TYPE_CHECKING:
    from layerguard.orm import OrmType, Origin
    from layerguard.project import ModuleInfo, ProjectModel

# Annotations: containers whose items are instances of their argument.
_QUERYSET_GENERICS = {"QuerySet", "Manager", "BaseManager", "RelatedManager"}
_LIST_GENERICS = {"list", "List", "Sequence", "Iterable", "Iterator", "Generator", "set", "Set", "Collection",
                  "MutableSequence", "AsyncIterator", "AsyncIterable"}
_TUPLE_GENERICS = {"tuple", "Tuple"}
_OPTIONAL_GENERICS = {"Optional", "Annotated"}
_UNKNOWN = object()  # a question being answered (recursion answers None)


def solver_for(project: ProjectModel) -> Solver:
    """The project's one solver (built on first use, kept for the run)."""
    solver = project.__dict__.get("_flow_solver")
    if solver is None:
        solver = project.__dict__["_flow_solver"] = Solver(project)
    return solver


class FunctionIndex:
    """Every project function by qualified name (`orders.utils.Recalc.run` -> its module
    and fact), read as a dict over all modules' functions would be (of two modules whose
    names give the same qualified name, the first in the project's order wins; within a
    module, the first definition), but filled one module at a time, when a name that
    module could define is first asked for: a whole index unpickled every module's
    functions (saleor: 0.04 s of a re-check of one edited file)."""

    def __init__(self, project: ProjectModel):
        self._modules: dict[str, list[tuple[int, ModuleInfo]]] = defaultdict(list)  # by module name
        for order, module in enumerate(project.modules_by_path.values()):
            self._modules[module.name].append((order, module))
        self._of_module: dict[str, dict[str, FunctionFact]] = {}  # path -> qualname -> first fact
        self._found: dict[str, tuple[ModuleInfo, FunctionFact] | None] = {}

    def get(self, qualified: str, default=None):
        found = self._found.get(qualified, _UNKNOWN)
        if found is _UNKNOWN:
            found = self._found[qualified] = self._lookup(qualified)
        return default if found is None else found

    def __contains__(self, qualified: str) -> bool:
        return self.get(qualified) is not None

    def __getitem__(self, qualified: str) -> tuple[ModuleInfo, FunctionFact]:
        found = self.get(qualified)
        if found is None:
            raise KeyError(qualified)
        return found

    def _lookup(self, qualified: str) -> tuple[ModuleInfo, FunctionFact] | None:
        best = None
        dot = qualified.find(".")
        while dot != -1:  # every split into a module name and a qualname within it
            for order, module in self._modules.get(qualified[:dot], ()):
                function = self._functions_of(module).get(qualified[dot + 1:])
                if function is not None and (best is None or order < best[0]):
                    best = (order, module, function)
            dot = qualified.find(".", dot + 1)
        return (best[1], best[2]) if best is not None else None

    def _functions_of(self, module: ModuleInfo) -> dict[str, FunctionFact]:
        found = self._of_module.get(module.path)
        if found is None:
            found = self._of_module[module.path] = {}
            for function in module.facts.functions:
                found.setdefault(function.qualname, function)
        return found


class Solver:
    def __init__(self, project: ProjectModel):
        self.project = project
        self._memo: dict[tuple, object] = {}
        self._parsed: dict[str, ast.expr | None] = {}
        self._functions: FunctionIndex | None = None
        self._call_sites: dict[str, list[tuple[ModuleInfo, FunctionFact, tuple]]] = {}
        self._callers: dict[str, tuple[str, ...]] | None = None
        self._subclass_index: dict[str, list[str]] | None = None

    # ------------------------------------------------------------ questions
    def function_return(self, qualified: str, self_type: OrmType | None = None) -> OrmType | None:
        """What calling the project function (or method) `qualified` returns."""
        return self._memoized(("return", qualified, self_type), lambda: self._return(qualified, self_type))

    def method_return(self, class_qualified: str, method: str, self_type: OrmType | None = None) -> OrmType | None:
        """What `obj.method()` returns, `obj` being an instance of the project class
        `class_qualified` (the method found in it or its project ancestors)."""
        found = self._method(class_qualified, method)
        if found is None:
            return None
        if self._is_abstract(found):
            # `raise NotImplementedError` in the base: the object is one of the subclasses,
            # so the call returns what every override agrees on (`Integration.
            # get_recipe_from_file`, each importer's returning a Recipe).
            owner = found[: -len(method) - 1]
            overrides = [f"{sub}.{method}" for sub in self._subclasses().get(owner, ())]
            overrides = [o for o in overrides if o in self.functions and not self._is_abstract(o)]
            # As with call sites, an override returning something untypable is no evidence;
            # two typed ones disagreeing are unknown.
            typed = [returned for o in overrides if (returned := self.function_return(o)) is not None]
            return _agreed(typed, self.project.user_model) if typed else None
        return self.function_return(found, self_type)

    def _is_abstract(self, qualified: str) -> bool:
        """A method that returns nothing it computes: no annotation, no return value (its
        body raises NotImplementedError, passes or is a docstring)."""
        module, function = self.functions[qualified]
        summary = module.facts.summaries.get(function.qualname)  # None: nothing returned, no calls kept
        return summary is None or (not summary.returns and not summary.return_values)

    def _subclasses(self) -> dict[str, list[str]]:
        """Every project class's project subclasses, direct or not (built once per run)."""
        if self._subclass_index is None:
            index: dict[str, list[str]] = defaultdict(list)
            for module in self.project.modules_by_path.values():
                for cls in module.facts.classes:
                    qualified = f"{module.name}.{cls.qualname}"
                    for ancestor_module, ancestor in self.project._project_ancestry(module, cls):
                        ancestor_qualified = f"{ancestor_module.name}.{ancestor.qualname}"
                        if ancestor_qualified != qualified:
                            index[ancestor_qualified].append(qualified)
            self._subclass_index = dict(index)
        return self._subclass_index

    def manager_method(self, model: str, method: str) -> OrmType | None | bool:
        """What `Model.objects.method()` returns when `method` is defined by one of the
        model's own manager or queryset classes; False when no such class defines it."""
        for manager_class in self._manager_classes(model):
            found = self._method(manager_class, method)
            if found:
                from layerguard.orm import OrmType

                result = self.function_return(found, OrmType("queryset", model))
                if result is not None and result.model is None and result.kind in ("queryset", "instance", "list"):
                    return OrmType(result.kind, model)
                return result
        return False

    def parameter(self, function_qualified: str, name: str) -> OrmType | None:
        """The type every call site in the project passes for parameter `name`."""
        return self._memoized(("parameter", function_qualified, name),
                              lambda: self._parameter(function_qualified, name))

    def attribute(self, class_qualified: str, attribute: str) -> OrmType | None:
        """What `obj.attribute` holds on an instance of the project class `class_qualified`."""
        return self._memoized(("attribute", class_qualified, attribute),
                              lambda: self._attribute(class_qualified, attribute))

    # -------------------------------------------------------------- answers
    def _return(self, qualified: str, self_type: OrmType | None) -> OrmType | None:
        found = self.functions.get(qualified)
        if found is None:
            return None
        module, function = found
        summary = module.facts.summaries.get(function.qualname)
        if summary is None:
            return None
        if summary.returns:
            return self.annotation(summary.returns, module)
        if any(d.endswith("contextmanager") for d in function.decorators):
            return None
        types = [self.type_of_text(text, module, function, summary, self_type) if text else None
                 for text in summary.return_values if text not in ("None",)]
        return _agreed(types, self.project.user_model) or self._common_base(types)

    def _common_base(self, types: list) -> OrmType | None:
        """`get_integration()` returning `Default(...)`, `Paprika(...)`...: instances of
        project classes that share a project base are instances of that base (the
        nearest one all of them derive from); their methods are found through it."""
        if len(types) < 2 or not all(t is not None and t.kind == "object" and t.model for t in types):
            return None
        ancestries = [[f"{m.name}.{c.qualname}" for m, c in self._ancestry(t.model)] for t in types]
        shared = set(ancestries[0]).intersection(*ancestries[1:])
        nearest = next((cls for cls in ancestries[0] if cls in shared), None)
        from layerguard.orm import OrmType

        return OrmType("object", nearest) if nearest else None

    def _parameter(self, function_qualified: str, name: str) -> OrmType | None:
        found = self.functions.get(function_qualified)
        if found is None:
            return None
        _, function = found
        position = _call_position(function, name)
        if position is None:
            return None
        is_method = function.class_qualname is not None
        # Each call site that passes a value layerguard can type is evidence; one that passes
        # something untypable (`f(form.cleaned_data["user"])`, the default, `*args`, or a call
        # on a receiver that may or may not be this function) is none, either way: the
        # parameter still holds the known model whenever the known call sites run, so a write
        # on it is a write. Two call sites passing different types: unknown.
        targets, callers = {function_qualified}, None
        if is_method:
            # An override is called by its base's `self.m(...)` whenever `self` is the
            # subclass: call sites in the class's own ancestry that name the method it
            # overrides are evidence for it too (`Integration.do_export` calling
            # `self.get_files_from_recipes(recipes, el)` for each exporter's override).
            owner = function_qualified[: -len(function.name) - 1]
            ancestry = [f"{m.name}.{c.qualname}" for m, c in self._ancestry(owner)]
            targets |= {f"{cls}.{function.name}" for cls in ancestry}
            callers = set(ancestry)
        sites = list(self.call_sites(function.name))
        if is_method and function.name == "__init__":
            # `AiCallbackHandler(space, user)` passes `__init__`'s parameters: the class's
            # construction sites, for the class and for any subclass that does not define
            # its own `__init__` (each resolved to the class it names).
            owner = function_qualified[: -len("__init__") - 1]
            constructed = {owner} | {sub for sub in self._subclasses().get(owner, ())
                                     if self._method(sub, "__init__") == function_qualified}
            for cls in constructed:
                for module, caller, call in self.call_sites(cls.rsplit(".", 1)[-1]):
                    if self.project.class_named(module, call[0]) == cls:
                        sites.append((module, caller, (function_qualified, *call[1:])))
        passed = []
        for module, caller, (callee, arguments, keywords) in sites:
            target = function_qualified if callee == function_qualified else self._callee(module, caller, callee)
            if target != function_qualified and (
                    target not in targets or not callee.startswith(("self.", "cls."))
                    or f"{module.name}.{caller.class_qualname}" not in callers):
                continue
            keyword = dict(keywords)
            if name in keyword:
                text = keyword[name]
            elif 0 <= position < len(arguments):
                text = arguments[position]
            else:
                continue  # the default, or passed through *args / **kwargs
            if text is None:
                continue
            summary = module.facts.summaries.get(caller.qualname)
            found = self.type_of_text(text, module, caller, summary, None)
            if found is not None:
                passed.append(found)
        return _agreed(passed, self.project.user_model)

    def _attribute(self, class_qualified: str, attribute: str) -> OrmType | None:
        for module, cls in self._ancestry(class_qualified):
            annotation = module.facts.class_annotations.get(cls.qualname, {}).get(attribute)
            if annotation:
                return self.annotation(annotation, module)
        types = []
        for module, cls in self._ancestry(class_qualified):
            for function in module.facts.functions:
                if function.class_qualname != cls.qualname:
                    continue
                summary = module.facts.summaries.get(function.qualname)
                for name, text in (summary.self_attributes if summary else ()):
                    if name == attribute:
                        types.append(self.type_of_text(text, module, function, summary, None) if text else None)
        if types:
            return _agreed(types, self.project.user_model)
        from layerguard.orm import OrmType

        found = self.property_value(class_qualified, attribute, OrmType("object", class_qualified))
        if found is None and attribute == "model":
            # `model = Basket` in the class body (a storage's, a helper's; views and admins
            # have theirs from the framework): `self.model` is that model class.
            for module, cls in self._ancestry(class_qualified):
                written = cls.model_refs.get("model")
                if written:
                    qualified = self.project.resolve(module, written)
                    return OrmType("class", qualified) if self.project.is_model_class(qualified) else None
        return found

    # --------------------------------------------------------------- typing
    def annotation(self, text: str, module: ModuleInfo) -> OrmType | None:
        """The type an annotation names: a model instance, a queryset of one, a tuple of
        them, a list of them, or an instance of a project class."""
        from layerguard.orm import OrmType

        node = self._parse(text)
        depth = 0
        while node is not None and depth < 10:
            depth += 1
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                node = self._parse(node.value)
                continue
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | None
                sides = [side for side in (node.left, node.right)
                         if not (isinstance(side, ast.Constant) and side.value is None)]
                if len(sides) != 1:
                    return None
                node = sides[0]
                continue
            if isinstance(node, ast.Subscript):
                generic = (dotted_name(node.value) or "").rsplit(".", 1)[-1]
                items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                if generic in _OPTIONAL_GENERICS:
                    node = items[0]
                    continue
                if generic == "Union":
                    items = [i for i in items if not (isinstance(i, ast.Constant) and i.value is None)]
                    if len(items) != 1:
                        return None
                    node = items[0]
                    continue
                if generic in _TUPLE_GENERICS:
                    elements = tuple(self._instance_annotation(item, module) for item in items)
                    return OrmType("tuple", None, elements) if any(elements) else None
                if generic in _QUERYSET_GENERICS or generic in _LIST_GENERICS:
                    item = self._instance_annotation(items[0], module)
                    if item is None or item.kind != "instance":
                        return None
                    return OrmType("queryset" if generic in _QUERYSET_GENERICS else "list", item.model)
                return None
            return self._instance_annotation(node, module)
        return None

    def _instance_annotation(self, node: ast.expr, module: ModuleInfo) -> OrmType | None:
        from layerguard.orm import OrmType

        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node = self._parse(node.value)
        dotted = dotted_name(node) if node is not None else None
        if not dotted or "()" in dotted:
            return None
        qualified = self.project.resolve(module, dotted)
        if qualified == dotted and self.project._binding(module, dotted.split(".")[0]) is None:
            qualified = self.project.model_by_reference(dotted, module, is_string=True)  # "Order", "shop.Order"
            if not qualified:
                return None
        if self.project.is_model_class(qualified):
            return OrmType("instance", qualified)
        if self.project.class_fact(qualified) is not None:
            from layerguard.typemodel.signatures import framework_types

            # `serializer: OrderSerializer`: a ModelSerializer or ModelForm saves its model
            return framework_types(self.project).saver_class(qualified) or OrmType("object", qualified)
        return None

    def type_of_text(self, text: str, module: ModuleInfo, function: FunctionFact | None,
                     summary: FunctionSummary | None, self_type: OrmType | None) -> OrmType | None:
        """The type of an expression kept in a summary, in its function's context."""
        node = self._parse(text)
        if node is None:
            return None
        return self.typer(module, function).type_of(node, self.environment(module, function, summary, self_type))

    def typer(self, module: ModuleInfo, function: FunctionFact | None):
        from layerguard.orm import OrmTyper

        from layerguard.typemodel.models import model_graph
        from layerguard.typemodel.signatures import framework_types

        enclosing = f"{module.name}.{function.class_qualname}" if function and function.class_qualname else None
        # The model graph and the framework's signatures, as in a checked file: a helper's
        # `return doc.parent or doc` is typed through the relation.
        return OrmTyper(self.project, module, enclosing, function=self._qualified(module, function), solver=self,
                        graph=model_graph(self.project), framework=framework_types(self.project))

    def environment(self, module: ModuleInfo, function: FunctionFact | None, summary: FunctionSummary | None,
                    self_type: OrmType | None) -> dict[str, Origin]:
        """Local names of a summarized function, each with the one type its bindings agree on."""
        from layerguard.orm import Origin

        environment: dict[str, Origin] = {}
        owner = self._qualified(module, function)
        if function is not None:
            for index, (name, annotation) in enumerate(function.params):
                if index == 0 and function.class_qualname and self_type is not None:
                    environment[name] = Origin("known", known=self_type)
                else:
                    environment[name] = Origin("parameter", annotation=annotation, owner=owner, name=name)
        for name, bound in (summary.bindings.items() if summary else ()):
            environment[name] = Origin("deferred", owner=owner, name=name)
        return _Environment(environment, self, module, function, summary, self_type)

    def binding(self, environment: _Environment, name: str) -> OrmType | None:
        """The type all of a local name's bindings agree on (flow-insensitive)."""
        key = ("binding", environment.owner, name, environment.self_type)

        def solve():
            from layerguard.orm import Origin

            rest = environment.without(name)
            typer = self.typer(environment.module, environment.function)
            types, rebindings = [], []
            for kind, text in environment.summary.bindings.get(name, ()):
                if kind == "assign" and text == "None":
                    continue  # `stored = None` before the branches that bind it: no evidence either way
                node = self._parse(text) if text else None
                if node is None or kind in ("unknown",):
                    return None
                origin = Origin({"assign": "assign", "first": "assign-first-of-tuple", "loop": "loop"}.get(kind, "x"),
                                node=node) if kind != "annotation" else None
                if origin is None:
                    types.append(self.annotation(text, environment.module))
                elif kind == "assign" and _reads(node, name):
                    if not self._passes_through(environment, node, name):
                        rebindings.append(origin)  # `qs = qs.filter(...)`: typed from the other bindings below
                else:
                    types.append(typer._type_of_origin(origin, rest))
            seed = _agreed(types, self.project.user_model)
            if seed is None or not rebindings:
                return seed
            # A name built up step by step (`qs = M.objects.all()`, then `if x: qs = qs.filter(x=x)`)
            # keeps its type when every rebinding, read with the name as the seed, gives it again.
            seeded = rest.without(name)
            seeded[name] = Origin("known", known=seed)
            again = [typer._type_of_origin(origin, seeded) for origin in rebindings]
            return seed if all(t == seed for t in again) else None

        return self._memoized(key, solve)

    def _passes_through(self, environment: _Environment, node: ast.AST, name: str) -> bool:
        """`user = self.sync(user=user)`, `sync` returning the parameter it is given (never
        rebound): the name keeps its value. Typed as a rebinding, it would go through
        `sync`'s call sites, this one among them, and that cycle answers nothing."""
        callee = dotted_name(node.func) if isinstance(node, ast.Call) else None
        target = self._callee(environment.module, environment.function, callee) \
            if callee and environment.function is not None else None
        found = self.functions.get(target) if target else None
        if found is None:
            return False
        module, function = found
        summary = module.facts.summaries.get(function.qualname)
        returned = {text for text in (summary.return_values if summary else ()) if text != "None"}
        if len(returned) != 1 or (parameter := returned.pop()) in summary.bindings \
                or (position := _call_position(function, parameter)) is None:
            return False
        passed = next((keyword.value for keyword in node.keywords if keyword.arg == parameter), None)
        if passed is None and position < len(node.args):
            passed = node.args[position]
        return isinstance(passed, ast.Name) and passed.id == name

    # -------------------------------------------------------------- indexes
    @property
    def functions(self) -> FunctionIndex:
        if self._functions is None:
            self._functions = FunctionIndex(self.project)
        return self._functions

    def call_sites(self, name: str) -> list[tuple[ModuleInfo, FunctionFact, tuple]]:
        """Every summarized call whose callee's last name is `name`, found through the
        callers table: an index of every call would cost a walk of every summary
        (saleor: 0.14 s) where a lookup touches only the modules that call it."""
        found = self._call_sites.get(name)
        if found is None:
            found = self._call_sites[name] = []
            modules = self.project.modules_by_path
            for path in self.callers().get(name, ()):
                module = modules[path]
                for function in module.facts.functions:
                    summary = module.facts.summaries.get(function.qualname)
                    for call in (summary.calls if summary else ()):
                        if call[0].rsplit(".", 1)[-1] == name:
                            found.append((module, function, call))
        return found

    def callers(self) -> dict[str, tuple[str, ...]]:
        """Each called name (`save` for `self.save(...)`) -> the paths of the modules whose
        summaries call it, in the model's order. A stored table (project.StoredTables),
        kept pickled until a run follows a parameter: read from every module's
        `called_names`, it unpickled the facts of all of them (saleor, one file touched:
        0.05 s)."""
        if self._callers is None:
            def build() -> bytes:
                callers: dict[str, list[str]] = defaultdict(list)
                for path, module in self.project.modules_by_path.items():
                    for called in module.facts.called_names:
                        callers[called].append(path)
                table = {called: tuple(paths) for called, paths in callers.items()}
                return pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL)

            self._callers = pickle.loads(self.project.tables.get("callers_by_name", build))
        return self._callers

    def _callee(self, module: ModuleInfo, caller: FunctionFact, callee: str) -> str | None:
        """The project function a call in `caller` names, if it can tell."""
        head, _, rest = callee.partition(".")
        if head in ("self", "cls") and caller.class_qualname and rest and "." not in rest:
            return self._method(f"{module.name}.{caller.class_qualname}", rest)
        if self.project._binding(module, head) is None and not any(
                f.qualname == callee for f in module.facts.functions if f.class_qualname is None):
            if rest and "." not in rest and head.isidentifier():
                # `integration.do_export(recipes, el)`, `integration` a local holding an
                # instance of a project class (what a factory's returns agree on).
                receiver = self.type_of_text(head, module, caller, module.facts.summaries.get(caller.qualname), None)
                if receiver is not None and receiver.kind == "object" and receiver.model:
                    return self._method(receiver.model, rest)
            return None
        qualified = self.project.resolve(module, callee)
        if qualified in self.functions:
            return qualified
        local = f"{module.name}.{callee}"
        return local if local in self.functions else qualified

    def property_value(self, class_qualified: str, attribute: str, self_type: OrmType) -> OrmType | None:
        """What `obj.attribute` gives when the project class or an ancestor defines it as a
        property (`@property`, `@cached_property`): what the getter returns (peeringdb's
        `org.admin_usergroup`, a `Group.objects.get(...)`)."""
        method = self._method(class_qualified, attribute)
        if method is None:
            return None
        _, function = self.functions[method]
        if not any(d.rsplit(".", 1)[-1] in PROPERTY_DECORATORS for d in function.decorators if d):
            return None
        return self.function_return(method, self_type)

    def _method(self, class_qualified: str, method: str) -> str | None:
        for module, cls in self._ancestry(class_qualified):
            qualified = f"{module.name}.{cls.qualname}.{method}"
            if qualified in self.functions:
                return qualified
        return None

    def _ancestry(self, class_qualified: str):
        found = self.project.class_fact(class_qualified)
        if found is None:
            return []
        return list(self.project._project_ancestry(*found))

    def _manager_classes(self, model: str) -> list[str]:
        classes = []
        for module, cls in self._ancestry(model):
            for parts in module.facts.manager_classes.get(cls.qualname, {}).values():
                for part in parts:
                    qualified = self.project.resolve(module, part)
                    if self.project.class_fact(qualified) is not None and qualified not in classes:
                        classes.append(qualified)
        return classes

    # -------------------------------------------------------------- helpers
    def _qualified(self, module: ModuleInfo, function: FunctionFact | None) -> str | None:
        return f"{module.name}.{function.qualname}" if function is not None else None

    def _parse(self, text: str | None) -> ast.expr | None:
        if text is None:
            return None
        if text not in self._parsed:
            try:
                self._parsed[text] = ast.parse(f"(\n{text}\n)", mode="eval").body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                self._parsed[text] = None
        return self._parsed[text]

    def _memoized(self, key: tuple, solve):
        if key in self._memo:
            value = self._memo[key]
            return None if value is _UNKNOWN else value
        self._memo[key] = _UNKNOWN  # a cycle answers None
        value = solve()
        self._memo[key] = value
        return value


class _Environment(dict):
    """A summarized function's local names (Origins), with what resolving them needs."""

    def __init__(self, origins, solver, module, function, summary, self_type):
        super().__init__(origins)
        self.solver, self.module, self.function, self.summary, self.self_type = \
            solver, module, function, summary, self_type
        self.owner = solver._qualified(module, function)

    def without(self, name: str, origin=None) -> _Environment:
        return _Environment({k: v for k, v in self.items() if k != name}, self.solver, self.module, self.function,
                            self.summary, self.self_type)


def _call_position(function: FunctionFact, name: str) -> int | None:
    """Where a call passes parameter `name` positionally (`self` / `cls` not counted);
    None for no such parameter, or for `self` itself."""
    names = [parameter for parameter, _ in function.params]
    if name not in names:
        return None
    position = names.index(name)
    if function.class_qualname is not None and not any(d.endswith("staticmethod") for d in function.decorators):
        position -= 1  # `self` / `cls`
    return position if position >= 0 else None


def _reads(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _agreed(types: list, user_model: str | None = None) -> OrmType | None:
    """The one type all answers agree on; None if any is unknown or two disagree.

    Collections of one model agree as a list of it: `projects` bound to a queryset in one
    branch and to a helper's `Iterator[Project]` in the other holds Projects either way
    (what a loop over it or an index gives), though only a list's operations are sure.
    `request.user` and `get_user_model()` are Django's User standing for the swappable
    user model: they agree with the project's `user_model` (`watched.user`, a foreign key
    to AUTH_USER_MODEL), as that model."""
    if not types or any(t is None for t in types):
        return None
    first = types[0]
    if all(t == first for t in types[1:]):
        return first
    from layerguard.orm import COLLECTION_KINDS, OrmType
    from layerguard.project import USER_MODEL

    if user_model and user_model != USER_MODEL and any(t.model == USER_MODEL for t in types) \
            and any(t.model == user_model for t in types):
        return _agreed([replace(t, model=user_model) if t.model == USER_MODEL else t for t in types])
    if first.model and all(t.kind in COLLECTION_KINDS and t.model == first.model for t in types):
        return OrmType("list", first.model)
    return None
