"""Typed stubs of fhir_preflight (the Rust extension module `_fhir_preflight`)."""

from os import PathLike
from typing import Iterator, Literal, Optional, Sequence, Union

Level = Literal["strict", "structure-only", "minimal"]

class Diagnostic:
    code: str
    severity: Literal["fatal", "error", "warning", "information"]
    message: str
    path: Optional[str]
    column: Optional[int]
    key: Optional[str]

class FailedLine:
    input: str
    line: int
    resource_type: Optional[str]
    id: Optional[str]
    diagnostics: list[Diagnostic]

class FailedLines(Iterator[FailedLine]):
    def __iter__(self) -> "FailedLines": ...
    def __next__(self) -> FailedLine: ...

class Report:
    counts: dict[str, Union[int, float]]
    resources_scanned: int
    resources_imported: int
    resources_failed: int
    files_scanned: int
    input_uri: str
    notes: list[Diagnostic]
    def to_manifest_json(self) -> str: ...
    def failed_lines(self) -> FailedLines: ...

class Validator:
    def __init__(self, *, name: str = "stream.ndjson", level: Level = "strict", threads: Optional[int] = None) -> None: ...
    def feed(self, data: bytes) -> None: ...
    def finish(self) -> Report: ...

def validate_file(
    path: Union[str, PathLike[str]],
    *,
    level: Level = "strict",
    output_dir: Optional[Union[str, PathLike[str]]] = None,
    threads: Optional[int] = None,
) -> Report: ...
def validate_bytes(data: bytes, *, name: str = "input.ndjson", level: Level = "strict", threads: Optional[int] = None) -> Report: ...
def merge(reports: Sequence[Report]) -> Report: ...
def merge_manifests(manifests: Sequence[str], *, input_uri: Optional[str] = None, output_dir: Optional[str] = None) -> str: ...
