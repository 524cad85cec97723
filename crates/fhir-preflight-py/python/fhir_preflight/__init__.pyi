"""Typed stubs of fhir_preflight (the Rust extension module `_fhir_preflight`)."""

from os import PathLike
from typing import Iterator, List, Literal, Optional, Sequence, Tuple, Union

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
    byte_range: Optional[Tuple[int, int]] = None,
    first_line: Optional[int] = None,
) -> Report:
    """Validate one NDJSON file (`.ndjson.gz` read transparently); with `output_dir`, also write the CLI's
    `manifest.json`, `SUCCESS/` and `FAILURE/` there. With `byte_range=(first, stop)` and `first_line`, as
    `plan_parts` gives them, only that part of an uncompressed file: line numbers and records are the
    whole file's (combine the parts' manifests with `merge_parts`, concatenate their records in order)."""
    ...
def scan_range(path: Union[str, PathLike[str]], start: int, end: int) -> Tuple[Optional[int], int]:
    """For the byte range `[start, end)` of an uncompressed NDJSON file cut into ranges: its first line start
    (None inside a long line) and its newlines (bytes `[start - 1, end - 1)`), reading only those bytes."""
    ...
def plan_parts(size: int, scans: Sequence[Tuple[int, int, Tuple[Optional[int], int]]]) -> List[Tuple[int, int, int]]:
    """The parts `(first, stop, first_line)` of a file of `size` bytes from its consecutive ranges'
    `(start, end, scan_range(...))`: each line in one part, numbered as in the whole file."""
    ...
def merge_parts(manifests: Sequence[str], *, output_dir: Optional[str] = None) -> str:
    """The manifests of the consecutive byte ranges of one file, as the manifest of the file validated whole."""
    ...
def validate_bytes(data: bytes, *, name: str = "input.ndjson", level: Level = "strict", threads: Optional[int] = None) -> Report: ...
def merge(reports: Sequence[Report]) -> Report: ...
def merge_manifests(manifests: Sequence[str], *, input_uri: Optional[str] = None, output_dir: Optional[str] = None) -> str: ...
