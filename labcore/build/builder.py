"""Run a Dockerfile, step by step, against the real store and runtime."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from labcore.build.cache import BuildCache, cache_key
from labcore.build.context import SourceRoot
from labcore.build.dockerignore import IgnoreRules
from labcore.build.errors import BuildError
from labcore.build.expand import expand
from labcore.build.metadata import CONFIG_ONLY, apply_metadata, command_words, history_text
from labcore.build.parse import Instruction, Stage, read_dockerfile
from labcore.build.progress import Progress, StepRecord
from labcore.errors import LabcoreError, NotFoundError
from labcore.image.imageconfig import ContainerConfig, HistoryEntry
from labcore.image.record import ImageRecord
from labcore.image.store import Store

if TYPE_CHECKING:
    from labcore.image.rootfs import RootfsMount

# The modules that mount, run and copy (workspace, sources) are imported when a step is not
# cached: a fully cached rebuild needs none of them, and the command starts faster without.

__all__ = ["BuildOptions", "BuildResult", "build"]

DEFAULT_SHELL = ("/bin/sh", "-c")
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class BuildOptions:
    """What ``labcore build`` was asked to do."""

    context: Path
    dockerfile: Path | None = None
    tags: tuple[str, ...] = ()
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    progress: str = "auto"


@dataclass(frozen=True)
class BuildResult:
    """The image a build made and a record of each step it ran."""

    image: ImageRecord
    steps: tuple[StepRecord, ...]

    @property
    def cached_steps(self) -> int:
        """How many steps came from the cache."""
        return sum(step.cached for step in self.steps)


@dataclass
class _StageState:
    """Where a stage stands: its current image and the settings later steps see."""

    image: ImageRecord
    config: ContainerConfig
    args: dict[str, str]
    shell: tuple[str, ...] = DEFAULT_SHELL

    def variables(self) -> dict[str, str]:
        """ARG values overridden by ENV values, for expansion."""
        env = dict(item.split("=", 1) for item in self.config.env if "=" in item)
        return {**self.args, **env}

    def run_env(self) -> list[str]:
        """The environment of a RUN: the image's ENV, plus declared ARGs it does not set."""
        env = list(self.config.env) or [DEFAULT_PATH]
        names = {item.split("=", 1)[0] for item in env}
        return env + [f"{key}={value}" for key, value in self.args.items() if key not in names]


class _Builder:
    """One build: stages in order, each step cached or run."""

    def __init__(self, options: BuildOptions, store: Store, progress: Progress) -> None:
        self.options = options
        self.store = store
        self.cache = BuildCache(store=store)
        self.progress = progress
        self.context = SourceRoot(options.context, IgnoreRules.for_context(options.context))
        self.stage_images: dict[str, ImageRecord] = {}
        self.records: list[StepRecord] = []
        self.used_args: set[str] = set()
        self.stage_names: set[str] = set()  # every named stage of the Dockerfile, built or not

    # ------------------------------------------------------------------ stages

    def run(self) -> BuildResult:
        dockerfile = self.options.dockerfile or self.options.context / "Dockerfile"
        global_args, stages = read_dockerfile(dockerfile)
        self.stage_names = {stage.name for stage in stages if stage.name}
        stages = self._stages_to_build(stages)
        defaults = self._global_args(global_args)
        total = sum(1 + len(stage.steps) for stage in stages)
        self.progress.total = total
        image: ImageRecord | None = None
        for stage in stages:
            image = self._build_stage(stage, defaults)
            self.stage_images[str(stage.index)] = image
            if stage.name:
                self.stage_images[stage.name] = image
        assert image is not None  # parse_dockerfile guarantees one stage
        final = self.store.add_image(image.manifest_descriptor, list(self.options.tags))[0]
        unused = sorted(set(self.options.build_args) - self.used_args)
        if unused:
            self.progress.warn(f"one or more build args were not consumed: {', '.join(unused)}")
        self.progress.done(final)
        return BuildResult(final, tuple(self.records))

    def _stages_to_build(self, stages: list[Stage]) -> list[Stage]:
        target = self.options.target
        if target is None:
            return stages
        for position, stage in enumerate(stages):
            if stage.name == target.lower():
                return stages[: position + 1]
        names = ", ".join(stage.name for stage in stages if stage.name) or "none"
        raise BuildError(str(self.options.dockerfile or "Dockerfile"), f"target stage {target!r} not found",
                         hint=f"the named stages are: {names}")

    def _global_args(self, instructions: list[Instruction]) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in instructions:
            for name, default in self._arg_words(instruction, values):
                values[name] = self._arg_value(name, default)
        return values

    def _arg_words(self, instruction: Instruction, variables: dict[str, str]) -> list[tuple[str, str | None]]:
        pairs = []
        for word in instruction.value:
            name, sep, default = word.partition("=")
            if not name.replace("_", "a").isalnum():
                raise BuildError(instruction.location, f"bad ARG name {name!r}", hint="e.g. ARG VERSION=1.0")
            pairs.append((name, expand(default, variables) if sep else None))
        return pairs

    def _arg_value(self, name: str, default: str | None) -> str:
        if name in self.options.build_args:
            self.used_args.add(name)
            return self.options.build_args[name]
        return default or ""

    def _build_stage(self, stage: Stage, global_args: dict[str, str]) -> ImageRecord:
        base_name = expand(stage.base, global_args)
        started = time.monotonic()
        self.progress.step(f"FROM {base_name}" + (f" AS {stage.name}" if stage.name else ""))
        base = self._base_image(base_name, stage.origin)
        self._record(stage.origin, True, started, base, layer=None)
        state = _StageState(image=base, config=base.config.config, args={})
        for instruction in stage.steps:
            self._step(instruction, state, global_args)
        return state.image

    def _base_image(self, name: str, origin: Instruction) -> ImageRecord:
        if name.lower() == "scratch":
            from labcore.image.mutate import new_image

            return new_image(self.store, None, [], ContainerConfig(), keep=False)
        if name.lower() in self.stage_images:
            return self.stage_images[name.lower()]
        try:
            return self.store.resolve(name)
        except NotFoundError:
            pass
        from labcore.build.sources import pull_image

        try:
            return pull_image(name, self.store)
        except LabcoreError as error:
            raise BuildError(origin.location, f"base image {name!r} is not in the store and could not be "
                             f"pulled: {error.message}", hint="pull or build it first, or check its name") from None

    # ------------------------------------------------------------------ steps

    def _step(self, instruction: Instruction, state: _StageState, global_args: dict[str, str]) -> None:
        started = time.monotonic()
        text = history_text(instruction, state.shell)
        self.progress.step(instruction.original)
        if instruction.cmd == "ARG":
            for name, default in self._arg_words(instruction, state.variables()):
                inherited = global_args.get(name) if default is None else default
                state.args[name] = self._arg_value(name, inherited)
        if instruction.cmd == "SHELL":
            if not instruction.json:
                raise BuildError(instruction.location, "SHELL wants the JSON form",
                                 hint='e.g. SHELL ["/bin/bash", "-c"]')
            state.shell = instruction.value
        if instruction.cmd in CONFIG_ONLY:
            self._config_step(instruction, state, text, started)
        elif instruction.cmd == "RUN":
            self._run_step(instruction, state, text, started)
        else:
            self._copy_step(instruction, state, text, started)

    def _cached(self, key: str) -> ImageRecord | None:
        return None if self.options.no_cache else self.cache.lookup(key)

    def _config_step(self, instruction: Instruction, state: _StageState, text: str, started: float) -> None:
        variables = state.variables()
        config = apply_metadata(instruction, state.config, variables, state.shell)
        expanded = " ".join(expand(word, variables) for word in instruction.value)
        key = cache_key(state.image.manifest_descriptor.digest, f"{instruction.cmd} {expanded}",
                        repr(sorted(config.to_dict().items())))
        image = self._cached(key)
        cached = image is not None
        if image is None:
            from labcore.image.mutate import Addition, new_image

            image = new_image(self.store, state.image, [Addition(HistoryEntry(created_by=text))], config,
                              keep=False)
            self.cache.record(key, image, text)
        state.image, state.config = image, config
        self._record(instruction, cached, started, image, layer=None)

    def _run_step(self, instruction: Instruction, state: _StageState, text: str, started: float) -> None:
        argv = command_words(instruction, state.shell)
        if instruction.heredocs and not instruction.json:
            argv = (*state.shell, "\n".join(instruction.heredocs))
        env = state.run_env()
        key = cache_key(state.image.manifest_descriptor.digest, f"RUN {argv!r}", repr(sorted(env)))
        image = self._cached(key)
        if image is not None:
            state.image = image
            self._record(instruction, True, started, image, layer=image.layers[-1])
            return
        from labcore.build.workspace import mounted, run_command
        from labcore.container.users import resolve_user

        with mounted(state.image, self.store) as rootfs:
            user = resolve_user(state.config.user or None, rootfs.merged)
            outcome = run_command(rootfs.merged, argv, env, state.config.working_dir or "/", user,
                                  self.progress.output, self.progress.running)
            if outcome.exit_code != 0:
                raise BuildError(
                    instruction.location,
                    f"RUN {' '.join(instruction.value)} failed with exit code {outcome.exit_code}",
                    hint="fix the command; its last lines of output are shown above",
                    output_tail="\n".join(outcome.tail), exit_code=outcome.exit_code,
                )
            image = self._commit_layer(rootfs, state, text)
        self.cache.record(key, image, text)
        state.image = image
        self._record(instruction, False, started, image, layer=image.layers[-1])

    def _commit_layer(self, rootfs: RootfsMount, state: _StageState, text: str) -> ImageRecord:
        from labcore.build.workspace import upper_to_layer
        from labcore.image.mutate import Addition, new_image

        with self.store.writing():
            layer, diff_id = upper_to_layer(self.store, rootfs)
            return new_image(self.store, state.image, [Addition(HistoryEntry(created_by=text), layer, diff_id)],
                             state.config, keep=False)

    def _copy_step(self, instruction: Instruction, state: _StageState, text: str, started: float) -> None:
        from labcore.build.sources import plan_copy
        from labcore.build.workspace import mounted

        with self._source_root(instruction) as source:
            plan = plan_copy(instruction, source, state.variables(), state.config.working_dir or "/")
            try:
                key = cache_key(state.image.manifest_descriptor.digest, plan.describe(), plan.inputs_hash())
                image = self._cached(key)
                cached = image is not None
                if image is None:
                    with mounted(state.image, self.store) as rootfs:
                        plan.apply(rootfs.merged)
                        image = self._commit_layer(rootfs, state, text)
                    self.cache.record(key, image, text)
            finally:
                plan.cleanup()
        state.image = image
        self._record(instruction, cached, started, image, layer=image.layers[-1])

    @contextlib.contextmanager
    def _source_root(self, instruction: Instruction) -> Iterator[SourceRoot]:
        origin = instruction.flag("from")
        if origin is None:
            yield self.context
            return
        if instruction.cmd == "ADD":
            raise BuildError(instruction.location, "ADD has no --from", hint="use COPY --from=STAGE")
        from labcore.build.workspace import mounted

        image = self.stage_images.get(origin.lower())
        if image is None:
            image = self._from_image(origin, instruction)
        with mounted(image, self.store) as rootfs:
            yield SourceRoot(rootfs.merged, IgnoreRules([]), what=f"stage {origin!r}")

    def _from_image(self, origin: str, instruction: Instruction) -> ImageRecord:
        if origin.isdigit():
            raise BuildError(instruction.location, f"--from={origin}: no earlier stage has index {origin}",
                             hint="--from names an earlier stage (by name or index) or an image")
        if origin.lower() in self.stage_names:
            raise BuildError(instruction.location, f"--from={origin} refers to its own stage or a later one: "
                             "that is a cycle", hint="a stage can copy only from stages before it")
        try:
            return self.store.resolve(origin)
        except NotFoundError:
            raise BuildError(instruction.location, f"--from={origin}: unknown stage or image",
                             hint="name an earlier stage (FROM ... AS NAME) or an image in the store") from None

    def _record(self, instruction: Instruction, cached: bool, started: float, image: ImageRecord,
                layer: object) -> None:
        from labcore.image.descriptor import Descriptor

        descriptor = layer if isinstance(layer, Descriptor) else None
        record = StepRecord(
            number=len(self.records) + 1, instruction=instruction.original, line=instruction.line,
            cached=cached, seconds=time.monotonic() - started, image_id=str(image.id),
            layer_digest=str(descriptor.digest) if descriptor else None,
            layer_size=descriptor.size if descriptor else 0,
        )
        self.records.append(record)
        self.progress.finished(record)


def build(
    context: str | Path,
    *,
    dockerfile: str | Path | None = None,
    tags: tuple[str, ...] | list[str] = (),
    build_args: dict[str, str] | None = None,
    target: str | None = None,
    no_cache: bool = False,
    progress: str = "auto",
    store: Store | None = None,
    output: Callable[[str], None] | None = None,
) -> BuildResult:
    """Build the Dockerfile in ``context`` (or ``dockerfile``); return the image and the step records.

    ``progress`` is ``auto`` or ``plain`` (print each step, Docker's classic format) or ``quiet``.
    Needs root: RUN steps run in real containers on overlay mounts.
    """
    context_path = Path(context).resolve()
    if not context_path.is_dir():
        raise BuildError(str(context), "the build context is not a directory",
                         hint="pass the directory that holds the Dockerfile and the files it copies")
    dockerfile_path = Path(dockerfile).resolve() if dockerfile else None
    options = BuildOptions(context_path, dockerfile_path, tuple(tags), dict(build_args or {}), target,
                           no_cache, progress)
    printer = Progress(progress, output)
    return _Builder(options, store or Store(), printer).run()

