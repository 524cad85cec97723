//! Shared by the criterion benches and `cargo xtask`: a deterministic generator of realistic FHIR
//! R4 NDJSON (Patient, Observation with components, Encounter, Condition, DiagnosticReport,
//! MedicationRequest, Claim, ExplanationOfBenefit, transaction Bundles), lines from about 300 B to
//! 50 KB, with a few percent of invalid lines. Same seed, same bytes, on every machine.

use std::fmt::Write as _;
use std::io::{self, Write};

/// A small deterministic PRNG (xorshift64*), so the corpus needs no dependency and never changes.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FAMILY: &[&str] =
    &["Smith", "Johnson", "Williams", "Brown", "Jones", "García", "Müller", "Nguyen", "O'Brien", "Kowalski"];
const GIVEN: &[&str] = &["Jane", "John", "Maria", "Wei", "Ahmed", "Zoë", "Liam", "Olivia", "Noah", "Emma"];
const LOINC: &[(&str, &str, &str, &str)] = &[
    ("8867-4", "Heart rate", "/min", "beats/minute"),
    ("8310-5", "Body temperature", "Cel", "C"),
    ("29463-7", "Body weight", "kg", "kg"),
    ("8302-2", "Body height", "cm", "cm"),
    ("2339-0", "Glucose", "mg/dL", "mg/dL"),
];

fn date(rng: &mut Rng) -> String {
    format!("{}-{:02}-{:02}", 1930 + rng.below(90), 1 + rng.below(12), 1 + rng.below(28))
}

fn date_time(rng: &mut Rng) -> String {
    let year = 2015 + rng.below(10);
    date_time_in(rng, year)
}

/// A start and an end a year later (per-1: a period does not end before it starts).
fn period(rng: &mut Rng) -> (String, String) {
    let year = 2015 + rng.below(10);
    (date_time_in(rng, year), date_time_in(rng, year + 1))
}

fn date_time_in(rng: &mut Rng, year: u64) -> String {
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
        year,
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60),
        ["Z", "+01:00", "-05:00"][rng.below(3) as usize]
    )
}

fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

fn narrative(rng: &mut Rng, words: u64) -> String {
    let mut s = String::from("<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\"><p>");
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(
            ["patient", "reports", "no", "pain", "since", "visit", "follow-up", "stable", "dose", "increased"]
                [rng.below(10) as usize],
        );
    }
    s.push_str("</p></div>");
    s
}

fn patient(rng: &mut Rng, id: &str) -> String {
    format!(
        r#"{{"resourceType":"Patient","id":"{id}","meta":{{"lastUpdated":"{}"}},"text":{{"status":"generated","div":"{}"}},"identifier":[{{"system":"urn:oid:2.16.840.1.113883.4.1","value":"{}"}}],"active":true,"name":[{{"use":"official","family":"{}","given":["{}"]}}],"telecom":[{{"system":"phone","value":"555-{:04}","use":"home"}}],"gender":"{}","birthDate":"{}","address":[{{"line":["{} Main St"],"city":"Springfield","state":"MA","postalCode":"0{:04}","country":"US"}}]}}"#,
        date_time(rng),
        narrative(rng, 8),
        rng.below(1_000_000_000),
        rng.pick(FAMILY),
        rng.pick(GIVEN),
        rng.below(10_000),
        ["male", "female", "other", "unknown"][rng.below(4) as usize],
        date(rng),
        rng.below(999),
        rng.below(10_000)
    )
}

fn quantity(rng: &mut Rng, unit: &str, code: &str) -> String {
    format!(
        r#"{{"value":{}.{},"unit":"{unit}","system":"http://unitsofmeasure.org","code":"{code}"}}"#,
        rng.below(200),
        rng.below(10)
    )
}

fn observation(rng: &mut Rng, id: &str, patient: &str) -> String {
    let main = rng.below(LOINC.len() as u64) as usize;
    let (code, display, ucum, unit) = LOINC[main];
    let mut s = format!(
        r#"{{"resourceType":"Observation","id":"{id}","status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"{code}","display":"{display}"}}],"text":"{display}"}},"subject":{{"reference":"Patient/{patient}"}},"effectiveDateTime":"{}","issued":"{}","valueQuantity":{}"#,
        date_time(rng),
        "2024-01-01T10:00:00.000Z",
        quantity(rng, unit, ucum)
    );
    let components = rng.below(4);
    if components > 0 {
        s.push_str(r#","component":["#);
        for c in 0..components {
            if c > 0 {
                s.push(',');
            }
            // A component's code differs from the Observation's (obs-7 forbids a value on both).
            let mut i = rng.below(LOINC.len() as u64) as usize;
            if i == main {
                i = (i + 1) % LOINC.len();
            }
            let (code, display, ucum, unit) = LOINC[i];
            let _ = write!(
                s,
                r#"{{"code":{{"coding":[{{"system":"http://loinc.org","code":"{code}","display":"{display}"}}]}},"valueQuantity":{}}}"#,
                quantity(rng, unit, ucum)
            );
        }
        s.push(']');
    }
    s.push('}');
    s
}

fn encounter(rng: &mut Rng, id: &str, patient: &str) -> String {
    let (start, end) = period(rng);
    format!(
        r#"{{"resourceType":"Encounter","id":"{id}","status":"finished","class":{{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB","display":"ambulatory"}},"type":[{{"coding":[{{"system":"http://snomed.info/sct","code":"185349003","display":"Encounter for check up"}}],"text":"Encounter for check up"}}],"subject":{{"reference":"Patient/{patient}"}},"participant":[{{"individual":{{"reference":"Practitioner/pr-{}","display":"Dr. {}"}}}}],"period":{{"start":"{}","end":"{}"}},"serviceProvider":{{"reference":"Organization/org-{}"}}}}"#,
        rng.below(100),
        rng.pick(FAMILY),
        start,
        end,
        rng.below(20)
    )
}

fn condition(rng: &mut Rng, id: &str, patient: &str) -> String {
    format!(
        r#"{{"resourceType":"Condition","id":"{id}","clinicalStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}}]}},"verificationStatus":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}}]}},"category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis"}}]}}],"code":{{"coding":[{{"system":"http://snomed.info/sct","code":"{}","display":"Hypertension"}}],"text":"Hypertension"}},"subject":{{"reference":"Patient/{patient}"}},"onsetDateTime":"{}","recordedDate":"{}"}}"#,
        38_341_003 + rng.below(100),
        date_time(rng),
        date(rng)
    )
}

fn diagnostic_report(rng: &mut Rng, id: &str, patient: &str) -> String {
    let results = 1 + rng.below(8);
    let refs: Vec<String> = (0..results).map(|i| format!(r#"{{"reference":"Observation/{id}-r{i}"}}"#)).collect();
    format!(
        r#"{{"resourceType":"DiagnosticReport","id":"{id}","status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"LAB"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"58410-2","display":"CBC panel"}}]}},"subject":{{"reference":"Patient/{patient}"}},"effectiveDateTime":"{}","issued":"{}","result":[{}],"conclusion":"{}"}}"#,
        date_time(rng),
        date_time(rng),
        refs.join(","),
        narrative(rng, 4).len()
    )
}

fn medication_request(rng: &mut Rng, id: &str, patient: &str) -> String {
    format!(
        r#"{{"resourceType":"MedicationRequest","id":"{id}","status":"active","intent":"order","medicationCodeableConcept":{{"coding":[{{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"{}","display":"lisinopril 10 MG Oral Tablet"}}]}},"subject":{{"reference":"Patient/{patient}"}},"authoredOn":"{}","requester":{{"reference":"Practitioner/pr-{}"}},"dosageInstruction":[{{"sequence":1,"text":"Take one tablet daily","timing":{{"repeat":{{"frequency":1,"period":1,"periodUnit":"d"}}}},"doseAndRate":[{{"doseQuantity":{{"value":1,"unit":"tablet","system":"http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm","code":"TAB"}}}}]}}],"dispenseRequest":{{"numberOfRepeatsAllowed":3,"quantity":{{"value":30,"unit":"tablet"}}}}}}"#,
        314_076 + rng.below(1000),
        date_time(rng),
        rng.below(100)
    )
}

fn claim_items(rng: &mut Rng, n: u64, adjudicated: bool) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"sequence":{},"productOrService":{{"coding":[{{"system":"http://snomed.info/sct","code":"{}"}}]}},"servicedDate":"{}","unitPrice":{{"value":{}.{:02},"currency":"USD"}},"net":{{"value":{}.00,"currency":"USD"}}"#,
            i + 1,
            100_000 + rng.below(900_000),
            date(rng),
            rng.below(500),
            rng.below(100),
            rng.below(500)
        );
        if adjudicated {
            let _ = write!(
                s,
                r#","adjudication":[{{"category":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/adjudication","code":"eligible"}}]}},"amount":{{"value":{}.00,"currency":"USD"}}}}]"#,
                rng.below(500)
            );
        }
        s.push('}');
    }
    s
}

fn claim(rng: &mut Rng, id: &str, patient: &str) -> String {
    let items = 1 + rng.below(30);
    format!(
        r#"{{"resourceType":"Claim","id":"{id}","status":"active","type":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"professional"}}]}},"use":"claim","patient":{{"reference":"Patient/{patient}"}},"created":"{}","provider":{{"reference":"Organization/org-1"}},"priority":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/processpriority","code":"normal"}}]}},"insurance":[{{"sequence":1,"focal":true,"coverage":{{"reference":"Coverage/cov-1"}}}}],"item":[{}],"total":{{"value":100.00,"currency":"USD"}}}}"#,
        date_time(rng),
        claim_items(rng, items, false)
    )
}

fn explanation_of_benefit(rng: &mut Rng, id: &str, patient: &str) -> String {
    let items = 1 + rng.below(120);
    format!(
        r#"{{"resourceType":"ExplanationOfBenefit","id":"{id}","status":"active","type":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"institutional"}}]}},"use":"claim","patient":{{"reference":"Patient/{patient}"}},"created":"{}","insurer":{{"reference":"Organization/org-2"}},"provider":{{"reference":"Organization/org-1"}},"outcome":"complete","insurance":[{{"focal":true,"coverage":{{"reference":"Coverage/cov-1"}}}}],"item":[{}],"total":[{{"category":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/adjudication","code":"submitted"}}]}},"amount":{{"value":1000.00,"currency":"USD"}}}}]}}"#,
        date_time(rng),
        claim_items(rng, items, true)
    )
}

fn bundle(rng: &mut Rng, id: &str, patient: &str) -> String {
    let entries = 2 + rng.below(30);
    let mut s = format!(r#"{{"resourceType":"Bundle","id":"{id}","type":"transaction","entry":["#);
    for e in 0..entries {
        if e > 0 {
            s.push(',');
        }
        let eid = format!("{id}-e{e}");
        let resource = match e % 3 {
            0 => observation(rng, &eid, patient),
            1 => encounter(rng, &eid, patient),
            _ => condition(rng, &eid, patient),
        };
        let kind = ["Observation", "Encounter", "Condition"][(e % 3) as usize];
        let _ = write!(
            s,
            r#"{{"fullUrl":"urn:uuid:{}","resource":{resource},"request":{{"method":"PUT","url":"{kind}/{eid}"}}}}"#,
            uuid(rng)
        );
    }
    s.push_str("]}");
    s
}

/// Make an otherwise valid line invalid, in one of several ways the foundation detects.
fn corrupt(rng: &mut Rng, line: &mut String) {
    match rng.below(5) {
        0 => {
            // truncated line
            let cut = line.len() / 2;
            let cut = (0..=cut).rev().find(|&i| line.is_char_boundary(i)).unwrap_or(0);
            line.truncate(cut);
        }
        1 => *line = line.replacen(r#""id":""#, r#""id":"bad_"#, 1),
        2 => *line = line.replacen(r#","id":""#, r#","idx":""#, 1),
        3 => *line = line.replacen(r#""status":"#, r#""status":"x","status":"#, 1),
        _ => *line = line.replacen(r#"{"resourceType":""#, r#"{"resourceType":"X"#, 1),
    }
}

/// Line `index` of the corpus with `seed`: a resource of a type drawn by realistic weights,
/// invalid with probability `invalid_per_mille`/1000.
pub fn line(seed: u64, index: u64, invalid_per_mille: u64) -> String {
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let id = format!("r{index}");
    let subject = format!("p{}", rng.below(100_000));
    let roll = rng.below(1000);
    let mut s = match roll {
        0..=149 => patient(&mut rng, &id),
        150..=529 => observation(&mut rng, &id, &subject),
        530..=669 => encounter(&mut rng, &id, &subject),
        670..=789 => condition(&mut rng, &id, &subject),
        790..=849 => diagnostic_report(&mut rng, &id, &subject),
        850..=939 => medication_request(&mut rng, &id, &subject),
        940..=974 => claim(&mut rng, &id, &subject),
        975..=989 => explanation_of_benefit(&mut rng, &id, &subject),
        _ => bundle(&mut rng, &id, &subject),
    };
    if rng.below(1000) < invalid_per_mille {
        corrupt(&mut rng, &mut s);
    }
    s
}

/// simd-json's tape parse (checks the JSON, builds no tree) of every line, with its buffers
/// reused across lines and calls: the parse-only baseline of every benchmark.
pub struct SimdTape {
    buffers: simd_json::Buffers,
    tape: simd_json::Tape<'static>,
    copy: Vec<u8>,
}

impl std::fmt::Debug for SimdTape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimdTape").finish_non_exhaustive()
    }
}

impl Default for SimdTape {
    fn default() -> Self {
        SimdTape { buffers: simd_json::Buffers::default(), tape: simd_json::Tape::null(), copy: Vec::new() }
    }
}

impl SimdTape {
    /// Parse every non-empty line of `input`; returns how many are JSON.
    pub fn parse_lines(&mut self, input: &[u8]) -> u64 {
        let mut ok = 0;
        for line in lines(input) {
            // simd-json parses in place: a copy per line, as a validator reading a file would make.
            self.copy.clear();
            self.copy.extend_from_slice(line);
            let mut tape = std::mem::replace(&mut self.tape, simd_json::Tape::null()).reset();
            ok += u64::from(simd_json::fill_tape(&mut self.copy, &mut self.buffers, &mut tape).is_ok());
            self.tape = tape.reset();
        }
        ok
    }
}

/// The non-empty lines of `input`, split with memchr: as fast as the validator's own framing, so
/// that the parse-only baselines are not slowed down by a byte-at-a-time split.
pub fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', input)
        .chain(std::iter::once(input.len()))
        .map(move |end| {
            let line = &input[start..end];
            start = end + 1;
            line
        })
        .filter(|l| !l.is_empty())
}

/// Write lines `0..lines` of the corpus, LF-terminated. Returns the bytes written.
pub fn write_corpus<W: Write>(mut out: W, seed: u64, lines: u64, invalid_per_mille: u64) -> io::Result<u64> {
    let mut bytes = 0;
    for i in 0..lines {
        let mut l = line(seed, i, invalid_per_mille);
        l.push('\n');
        out.write_all(l.as_bytes())?;
        bytes += l.len() as u64;
    }
    out.flush()?;
    Ok(bytes)
}

/// The corpus in memory (for benches).
pub fn corpus(seed: u64, lines: u64, invalid_per_mille: u64) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = write_corpus(&mut v, seed, lines, invalid_per_mille);
    v
}

/// The resource types of the vendored Synthea sample that declares US Core
/// (`fixtures/synthea-us-core/`), in the order a bulk export lists its files.
pub const US_CORE_SAMPLE_TYPES: &[&str] = &[
    "Patient",
    "Organization",
    "Location",
    "Practitioner",
    "Encounter",
    "Condition",
    "Observation",
    "Procedure",
    "Immunization",
    "MedicationRequest",
    "Medication",
    "MedicationAdministration",
    "DiagnosticReport",
    "DocumentReference",
    "CarePlan",
    "CareTeam",
    "AllergyIntolerance",
    "ImagingStudy",
    "Claim",
    "ExplanationOfBenefit",
    "Provenance",
];

/// A Synthea-shaped corpus that declares US Core (issue 14's speed figure): the vendored Synthea
/// sample (`dir`, 2,774 real lines of Synthea's US Core export) repeated `copies` times, each copy
/// with fresh ids — every UUID (ids, references, identifiers) has its last group XOR-ed with the
/// copy number, consistently, so references still name resources of the same copy — and the
/// files' lines grouped by resource type as a bulk export writes them. Returns the bytes written.
pub fn write_us_core_corpus<W: Write>(mut out: W, dir: &std::path::Path, copies: u64) -> io::Result<u64> {
    let mut bytes = 0;
    for ty in US_CORE_SAMPLE_TYPES {
        let path = dir.join(format!("{ty}.ndjson"));
        let text = std::fs::read(&path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        for copy in 0..copies {
            let fresh = with_fresh_uuids(&text, copy);
            out.write_all(&fresh)?;
            bytes += fresh.len() as u64;
        }
    }
    out.flush()?;
    Ok(bytes)
}

/// `text` with every lowercase UUID's last 12 hex digits XOR-ed with `copy` (copy 0: unchanged).
fn with_fresh_uuids(text: &[u8], copy: u64) -> Vec<u8> {
    let mut out = text.to_vec();
    if copy == 0 {
        return out;
    }
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    let is_uuid = |w: &[u8]| {
        w.len() == 36
            && w.iter().enumerate().all(|(i, &b)| if [8, 13, 18, 23].contains(&i) { b == b'-' } else { hex(b) })
    };
    let mut i = 0;
    while i + 36 <= out.len() {
        if is_uuid(&out[i..i + 36]) && (i == 0 || !hex(out[i - 1])) {
            let tail = std::str::from_utf8(&out[i + 24..i + 36]).ok().and_then(|t| u64::from_str_radix(t, 16).ok());
            if let Some(tail) = tail {
                let fresh = format!("{:012x}", (tail ^ copy) & 0xffff_ffff_ffff);
                out[i + 24..i + 36].copy_from_slice(fresh.as_bytes());
            }
            i += 36;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn us_core_corpus_copies_have_fresh_consistent_ids() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/synthea-us-core");
        let mut one = Vec::new();
        write_us_core_corpus(&mut one, &dir, 1).unwrap();
        let mut two = Vec::new();
        write_us_core_corpus(&mut two, &dir, 2).unwrap();
        assert_eq!(lines(&one).count(), 2774);
        assert_eq!(lines(&two).count(), 2 * 2774);
        // Every line parses, and no (resourceType, id) repeats across copies.
        let mut ids = std::collections::HashSet::new();
        for l in lines(&two) {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            assert!(ids.insert(format!("{}/{}", v["resourceType"], v["id"])), "{}", v["id"]);
        }
        let fresh = with_fresh_uuids(b"Patient/8a4c9c04-1524-9f1c-d65b-9b17e4520fef\"", 3);
        assert_eq!(fresh, b"Patient/8a4c9c04-1524-9f1c-d65b-9b17e4520fec\"");
    }

    #[test]
    fn deterministic_and_parseable() {
        let a = corpus(7, 300, 30);
        assert_eq!(a, corpus(7, 300, 30));
        let mut parsed = 0;
        assert_eq!(lines(&a).count(), a.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count());
        for l in lines(&a) {
            if serde_json::from_slice::<serde_json::Value>(l).is_ok() {
                parsed += 1;
            }
        }
        assert!(parsed >= 290, "most lines are valid JSON: {parsed}");
        // The simd-json baseline agrees with serde_json, and again with its buffers reused.
        let mut tape = SimdTape::default();
        assert_eq!(tape.parse_lines(&a), parsed);
        assert_eq!(tape.parse_lines(&a), parsed);
        let sizes: Vec<usize> = (0..2000).map(|i| line(7, i, 0).len()).collect();
        assert!(*sizes.iter().min().unwrap() >= 250, "{:?}", sizes.iter().min());
        assert!(*sizes.iter().max().unwrap() >= 20_000, "{:?}", sizes.iter().max());
    }

    #[test]
    fn clean_corpus_validates_clean() {
        let clean = corpus(3, 500, 0);
        let report =
            fhir_preflight::validate_bytes(&clean, &fhir_preflight::Options::default(), &mut fhir_preflight::Discard);
        assert_eq!(report.resources_customer_error, 0);
        let dirty = corpus(3, 2000, 50);
        let report =
            fhir_preflight::validate_bytes(&dirty, &fhir_preflight::Options::default(), &mut fhir_preflight::Discard);
        assert!(report.resources_customer_error > 40, "{report:?}");
    }
}
