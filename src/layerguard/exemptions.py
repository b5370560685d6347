"""Which modules are exempt from LG1/LG2/LG3: by their path (`exempt-modules`) and by
what they are, settings or test support, whatever they are called.

A name alone is a weak hint: a `settings.py` inside a `views/` package holds the
views of a settings page, and a `test.py` or a `factory.py` holds test support.
So a module is a **settings module** when
1. `DJANGO_SETTINGS_MODULE` names it (in `manage.py`, `wsgi.py`, `asgi.py`, a
   `celery.py`...), or it is in the package so named;
2. it assigns one of Django's core settings at module level (`INSTALLED_APPS`,
   `DATABASES`, `MIDDLEWARE`, `ROOT_URLCONF`, `SECRET_KEY`, ...: `CORE_SETTINGS`);
3. it star-imports a settings module (`from .base import *`), or a settings module
   star-imports it (a `settings/logging.py` fragment);
4. it is in a `settings/` directory beside a settings module; or
5. it is named like settings (`settings.py`, `settings/`, `settings_*.py`) and
   reads like configuration: upper-case names assigned at module level and no
   function or class of its own (an app's `settings.py` of `getattr(settings, ...)`
   defaults).
A module is **test support** when it matches `exempt-modules` (tests/, test.py,
conftest.py, factories...) or defines a `TestCase` subclass (unittest, Django, DRF,
any `...TestCase`, through a project base whose name says Test, Case or Factory), a
pytest fixture, or a factory_boy factory.

Everything here is read from the facts and the project model's one resolver; the
project model owns one `Exemptions` and answers `is_exempt` through it.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from layerguard.discover import PathMatcher

if TYPE_CHECKING:
    from layerguard.project import ModuleInfo, ProjectModel

SETTINGS_GLOBS = ["**/settings.py", "**/settings/**/*.py", "**/settings_*.py"]
# Settings only a Django settings module assigns (django.conf.global_settings); one is enough.
CORE_SETTINGS = frozenset({
    "INSTALLED_APPS", "DATABASES", "MIDDLEWARE", "MIDDLEWARE_CLASSES", "ROOT_URLCONF", "SECRET_KEY",
    "TEMPLATES", "WSGI_APPLICATION", "ASGI_APPLICATION", "ALLOWED_HOSTS", "AUTH_USER_MODEL",
    "DEFAULT_AUTO_FIELD", "STATIC_ROOT", "STATIC_URL", "STATICFILES_DIRS", "MEDIA_ROOT", "MEDIA_URL",
    "LANGUAGE_CODE", "TIME_ZONE", "USE_TZ", "USE_I18N", "AUTH_PASSWORD_VALIDATORS",
    "AUTHENTICATION_BACKENDS", "DATABASE_ROUTERS", "SESSION_ENGINE", "CSRF_TRUSTED_ORIGINS",
    "EMAIL_BACKEND", "DEFAULT_FROM_EMAIL", "LOGIN_URL", "LOGIN_REDIRECT_URL", "SITE_ID",
})
TEST_BASE_PREFIXES = ("unittest.", "django.test.", "rest_framework.test.", "django.contrib.staticfiles.testing.")
PYTEST_FIXTURES = {"pytest.fixture", "pytest_asyncio.fixture"}
TEST_BASE_WORDS = ("Test", "Case", "Factory")


def _is_external_test_case(qualified: str) -> bool:
    return qualified.startswith(TEST_BASE_PREFIXES) or qualified.rsplit(".", 1)[-1].endswith("TestCase")


def _is_external_factory(qualified: str) -> bool:
    """factory_boy: factory.Factory, factory.django.DjangoModelFactory, factory.base.*."""
    return qualified.startswith("factory.") and qualified.endswith("Factory")


class Exemptions:
    def __init__(self, project: ProjectModel):
        self.project = project
        self._globs = PathMatcher(project.settings.exempt_modules)
        self._settings_named = PathMatcher(SETTINGS_GLOBS)

    def is_exempt(self, path: str) -> bool:
        return self._globs.matches(path) or path in self.settings_paths or self.is_test_support(path)

    # ------------------------------------------------------------ settings
    @cached_property
    def settings_paths(self) -> frozenset[str]:
        # A project table (project.StoredTables): it reads three facts of every module,
        # which a re-check of one file need not otherwise unpickle.
        return self.project.tables.get("settings_paths", self._settings_paths)

    def _settings_paths(self) -> frozenset[str]:
        project = self.project
        found: set[str] = set()
        for module in project.modules_by_path.values():
            for name in module.facts.names_settings_modules:
                named = project.modules_by_name.get(name)
                if named is not None:
                    found.add(named.path)
                    if named.is_package:  # settings/__init__.py: the whole package is settings
                        prefix = f"{PurePosixPath(named.path).parent}/"
                        found.update(p for p in project.modules_by_path if p.startswith(prefix))
        for path, module in project.modules_by_path.items():
            if CORE_SETTINGS.intersection(module.facts.assigned) or self._reads_like_configuration(path, module):
                found.add(path)
        # Star imports join settings modules both ways (`from .base import *`, fragments).
        changed = True
        while changed:
            changed = False
            for path, module in project.modules_by_path.items():
                for imported in self._star_imported(module):
                    if (path in found) != (imported in found):
                        found.update((path, imported))
                        changed = True
        # (Root-relative posix paths: split as strings, pathlib here cost 50 ms a model build.)
        settings_directories = {p.rpartition("/")[0] for p in found if p.rpartition("/")[0].rpartition("/")[2] == "settings"}
        found.update(p for p in project.modules_by_path if p.rpartition("/")[0] in settings_directories)
        return frozenset(found)

    def _reads_like_configuration(self, path: str, module: ModuleInfo) -> bool:
        if not self._settings_named.matches(path):
            return False
        facts = module.facts
        defines = any("." not in c.qualname for c in facts.classes) or any("." not in f.qualname for f in facts.functions)
        return not defines and any(name.isupper() for name in facts.assigned)

    def _star_imported(self, module: ModuleInfo) -> list[str]:
        return [imported.path for imported in self.project.star_imported_modules(module) if imported is not module]

    # --------------------------------------------------------- test support
    def is_test_support(self, path: str) -> bool:
        project = self.project
        module = project.modules_by_path[path]
        for cls in module.facts.classes:
            # Resolving every class's ancestry is the expensive part; test cases and
            # factories are named so (`BaseTestCase`, `APITestCase`, `OrderFactory`).
            if not any(word in base for base in cls.bases for word in TEST_BASE_WORDS):
                continue
            qualified = f"{module.name}.{cls.qualname}"
            if project.inherits_from(qualified, "test case", _is_external_test_case) \
                    or project.inherits_from(qualified, "factory", _is_external_factory):
                return True
        return any(
            "fixture" in decorator and project.resolve(module, decorator) in PYTEST_FIXTURES
            for function in module.facts.functions for decorator in function.decorators
        )
