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
    "validate_bytes",
    "validate_file",
]
