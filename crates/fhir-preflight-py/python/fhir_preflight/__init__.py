"""fhir-preflight: validate NDJSON files of FHIR R4 resources before a bulk import (AWS HealthLake).

The same core as the `fhir-preflight` CLI: the same verdicts, and manifests and records byte-identical
to the CLI's.

>>> import fhir_preflight
>>> report = fhir_preflight.validate_bytes(b'{"resourceType":"Patient","id":"a"}\\n')
>>> report.resources_imported
1
"""

from ._fhir_preflight import (
    Diagnostic,
    FailedLine,
    FailedLines,
    Report,
    Validator,
    merge,
    merge_manifests,
    merge_parts,
    scan_range,
    validate_bytes,
    validate_file,
)

__all__ = [
    "Diagnostic",
    "FailedLine",
    "FailedLines",
    "Report",
    "Validator",
    "merge",
    "merge_manifests",
    "merge_parts",
    "scan_range",
    "plan_parts",
    "validate_bytes",
    "validate_file",
]


def plan_parts(size, scans):
    """The parts of a file of `size` bytes cut into consecutive byte ranges, from each range's
    `scan_range` result: `scans` is `[(start, end, (first, newlines)), ...]` covering `[0, size)` in
    order; returns `[(first, stop, first_line), ...]`, one per range holding a line start, for
    `validate_file(path, byte_range=(first, stop), first_line=first_line)`. Each line of the file is
    in exactly one part, numbered as in the whole file."""
    expected = 0
    for start, end, _ in scans:
        if start != expected or end < start:
            raise ValueError(f"the ranges must be consecutive from byte 0: ({start}, {end}) after byte {expected}")
        expected = end
    if expected < size:
        raise ValueError(f"the ranges end at byte {expected} of {size}")
    parts = []
    before = 0  # newlines in bytes [0, start - 1) of the range at hand
    for start, _, (first, newlines) in scans:
        if first is not None:
            parts.append([first, size, 1 if first == 0 else before + 2])
        before += newlines
    for part, following in zip(parts, parts[1:]):
        part[1] = following[0]
    return [tuple(p) for p in parts]
