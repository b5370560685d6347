"""The model graph: every model's relations, built once per run from the facts.

`account.owner.delete()`, `invoice.lines.create(...)`, `user.groups.add(g)` and
`Article.tags.through.objects.filter(...).delete()` are writes only if layerguard knows
what `owner`, `lines`, `groups` and `tags` are. This module answers that for every
model of the project and Django's contrib models, the way Django builds them:

- a forward FK / one-to-one is an instance of its target, a many-to-many a related
  manager of it, and `Model.m2m.through` its through model (the one named by
  `through=`, or Django's auto-created one, a model of unknown name);
- a GenericForeignKey is an instance of some model (which, unknown);
- the reverse side is `related_name`, else `<model>_set` (a one-to-one: `<model>`);
  `+` hides it, `%(class)s` / `%(app_label)s` name it per concrete model;
- fields of an abstract base belong to each concrete model deriving from it; a
  multi-table child has its parents' relations and `<parent>_ptr`, and the parent
  reaches the child by `<child>`;
- a user model (the swappable one, or any model deriving from PermissionsMixin /
  AbstractUser) has `groups` and `user_permissions`; Group has `permissions`,
  Permission its `content_type`, and the reverse sides of those.

Nothing is guessed: a relation layerguard cannot resolve has an unknown target, and an
attribute that is no relation is unknown.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from layerguard.project import CONTRIB_MODELS, ModuleInfo, ProjectModel

DJANGO_USER = CONTRIB_MODELS["auth.User"]
GROUP = CONTRIB_MODELS["auth.Group"]
PERMISSION = CONTRIB_MODELS["auth.Permission"]
CONTENT_TYPE = CONTRIB_MODELS["contenttypes.ContentType"]
LOG_ENTRY = CONTRIB_MODELS["admin.LogEntry"]
USER_BASES = ("django.contrib.auth.models.PermissionsMixin", "django.contrib.auth.models.AbstractUser",
              "django.contrib.auth.models.User")


@dataclass(frozen=True)
class Relation:
    kind: str  # "manager" (a related manager), "instance" (a forward FK / one-to-one) or "file" (a FieldFile)
    target: str | None  # the related model; None when it cannot be resolved
    many_to_many: bool = False
    through: str | None = None  # an m2m's explicit through model (None: auto-created or unknown)


class ModelGraph:
    def __init__(self, project: ProjectModel):
        self.project = project
        # Relations name no positions: a stored table (project.StoredTables).
        self._own, self._parents = project.tables.get("model_graph", self._built)

    def relation(self, model: str, attribute: str) -> Relation | None:
        """What `instance.<attribute>` is for an instance of `model`, if a relation."""
        seen: set[str] = set()
        stack = [model]
        if model == DJANGO_USER:  # `request.user`, `get_user_model()`: the swappable user
            stack.append(self.project.user_model)
        while stack:
            current = stack.pop(0)
            if current in seen:
                continue
            seen.add(current)
            found = self._own.get(current, {}).get(attribute)
            if found is not None:
                return found
            stack.extend(self._parents.get(current, ()))
        return None

    def knows(self, model: str) -> bool:
        return model in self._own or self.project.is_project_model(model)

    # ------------------------------------------------------------- building
    def _add(self, model: str, name: str, relation: Relation) -> None:
        self._own.setdefault(model, {}).setdefault(name, relation)

    def _built(self) -> tuple[dict[str, dict[str, Relation]], dict[str, list[str]]]:
        self._own, self._parents = {}, {}
        self._build()
        return self._own, self._parents

    def _build(self) -> None:
        project = self.project
        user_model = project.user_model
        for qualified, info in project.models.items():
            found = project.class_fact(qualified)
            if found is None:
                continue
            module, cls = found
            if info.abstract:
                continue
            parents = [base for base in project.qualified_bases(module, cls)
                       if (base_info := project.model_info(base)) is not None and not base_info.abstract
                       and not base_info.external]
            self._parents[qualified] = parents
            for parent in parents:
                parent_name = parent.rsplit(".", 1)[-1].lower()
                self._add(qualified, f"{parent_name}_ptr", Relation("instance", parent))
                self._add(parent, info.name.lower(), Relation("instance", qualified))
            for declared_in, field in self._own_fields(module, cls):
                self._add_field(qualified, info.name, info.app, declared_in, field)
            if qualified == user_model or project.inherits_from(qualified, "user", USER_BASES.__contains__):
                self._add(qualified, "groups", Relation("manager", GROUP, many_to_many=True))
                self._add(qualified, "user_permissions", Relation("manager", PERMISSION, many_to_many=True))
        for user in {user_model, CONTRIB_MODELS["auth.User"]}:
            self._add(user, "groups", Relation("manager", GROUP, many_to_many=True))
            self._add(user, "user_permissions", Relation("manager", PERMISSION, many_to_many=True))
            self._add(user, "logentry_set", Relation("manager", LOG_ENTRY))
        self._add(GROUP, "user_set", Relation("manager", user_model, many_to_many=True))
        self._add(PERMISSION, "user_set", Relation("manager", user_model, many_to_many=True))
        self._add(GROUP, "permissions", Relation("manager", PERMISSION, many_to_many=True))
        self._add(PERMISSION, "group_set", Relation("manager", GROUP, many_to_many=True))
        self._add(PERMISSION, "content_type", Relation("instance", CONTENT_TYPE))
        self._add(CONTENT_TYPE, "permission_set", Relation("manager", PERMISSION))
        self._add(CONTENT_TYPE, "logentry_set", Relation("manager", LOG_ENTRY))
        self._add(LOG_ENTRY, "user", Relation("instance", user_model))
        self._add(LOG_ENTRY, "content_type", Relation("instance", CONTENT_TYPE))

    def _own_fields(self, module: ModuleInfo, cls, depth: int = 0):
        """The fields a concrete model declares itself or inherits from abstract bases
        (each with the module it is declared in, which resolves its references)."""
        for field in cls.fields:
            yield module, field
        if depth > 20:
            return
        for base in self.project.qualified_bases(module, cls):
            found = self.project.class_fact(base)
            if found is not None and found[1].abstract and self.project.is_model_class(base):
                yield from self._own_fields(*found, depth + 1)

    def _add_field(self, model: str, name: str, app: str | None, declared_in: ModuleInfo, field) -> None:
        project = self.project
        if field.kind == "gfk":  # `content_object`: an instance of some model
            self._add(model, field.name, Relation("instance", None))
            return
        if field.kind == "file":  # `avatar`: a FieldFile of this instance
            self._add(model, field.name, Relation("file", model))
            return
        if field.target == "self" and field.target_is_string:
            target: str | None = model
        elif field.target:
            target = project.model_by_reference(field.target, declared_in, field.target_is_string)
        else:
            target = None
        many = field.kind in ("m2m", "generic")
        through = None
        if field.kind == "m2m" and field.through:
            through = project.model_by_reference(field.through, declared_in, field.through_is_string)
        self._add(model, field.name, Relation("manager" if many else "instance", target,
                                              many_to_many=field.kind == "m2m", through=through))
        if target is None or field.kind == "generic":
            return
        related = field.related_name
        if related is not None:
            related = related.replace("%(class)s", name.lower()).replace("%(app_label)s", (app or "").lower())
            if related.endswith("+") or "%" in related:
                return
        if field.kind == "m2m" and target == model and related is None:
            return  # symmetrical to itself: no reverse accessor
        if field.kind == "o2o":
            self._add(target, related or name.lower(), Relation("instance", model))
        else:
            self._add(target, related or f"{name.lower()}_set",
                      Relation("manager", model, many_to_many=field.kind == "m2m", through=through))


_graphs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def model_graph(project: ProjectModel) -> ModelGraph:
    """The project's model graph, built on first use and kept for the run."""
    graph = _graphs.get(project)
    if graph is None:
        graph = _graphs[project] = ModelGraph(project)
    return graph
