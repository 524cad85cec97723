//! Structural R4 checks, case by case: each failing line gets exactly the listed (code, path)
//! errors, each passing line none. Plus a snapshot of full diagnostics for a few lines.

use fhir_preflight::{validate_bytes, Level, LineResult, Options, Severity};

/// (code, path) of diagnostics.
type Found = Vec<(String, String)>;

/// (code, path) of every error-level diagnostic of one line; warnings separately.
fn check(line: &str) -> (Found, Found) {
    check_at(line, Level::Strict)
}

fn check_at(line: &str, level: Level) -> (Found, Found) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut sink = |l: &LineResult<'_>| {
        for d in l.diagnostics {
            let row = (d.code().as_str().to_owned(), d.path().clone().unwrap_or_default());
            if d.severity() >= Severity::Error {
                errors.push(row);
            } else if d.severity() == Severity::Warning {
                warnings.push(row);
            }
        }
    };
    validate_bytes(line.as_bytes(), &Options::default().with_level(level), &mut sink);
    (errors, warnings)
}

const OBS: &str = r##""resourceType":"Observation","id":"o","status":"final","code":{"text":"x"}"##;

#[test]
fn passing_resources() {
    let lines = [
        format!(r##"{{{OBS}}}"##),
        format!(r##"{{{OBS},"valueQuantity":{{"value":1.50,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}}}"##),
        format!(r##"{{{OBS},"component":[{{"code":{{"text":"a"}},"valueString":"x"}},{{"code":{{"text":"b"}},"valueInteger":3}}]}}"##),
        r##"{"resourceType":"Patient","id":"p","name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"http://x.org/e","valueString":"y"}]}]}]}"##.to_owned(),
        r##"{"resourceType":"Patient","id":"p","_birthDate":{"extension":[{"url":"http://x.org/e","valueBoolean":true}]}}"##.to_owned(),
        r##"{"resourceType":"Patient","id":"p","gender":"female","birthDate":"1970-01-01","deceasedBoolean":false,"multipleBirthInteger":2}"##.to_owned(),
        r##"{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Organization","id":"o1","name":"Org"}],"managingOrganization":{"reference":"#o1"}}"##.to_owned(),
        r##"{"resourceType":"Bundle","id":"b","type":"collection","entry":[{"fullUrl":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","resource":{"name":[{"family":"x"}],"resourceType":"Patient"}}]}"##.to_owned(),
        r##"{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">hi</div>"}}"##.to_owned(),
        r##"{"resourceType":"Patient","id":"p","extension":[{"url":"http://x.org/a","extension":[{"url":"b","valueCode":"c"}]}]}"##.to_owned(),
        r##"{"resourceType":"Questionnaire","id":"q","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"string"}]}]}"##.to_owned(),
        r##"{"resourceType":"Binary","id":"b","contentType":"application/pdf","data":"JVBERi0="}"##.to_owned(),
        r##"{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://snomed.info/sct","code":"x"},{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}}"##.to_owned(),
        // conditional references are expected in transactions (the entry still needs a fullUrl:
        // the 2020 validator's Bundle_BUNDLE_Entry_NoFullUrl applies to any reference in an entry)
        r##"{"resourceType":"Bundle","id":"t","type":"transaction","entry":[{"fullUrl":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e1","resource":{"resourceType":"Patient","generalPractitioner":[{"reference":"Practitioner?identifier=http://npi|1"}]},"request":{"method":"POST","url":"Patient"}}]}"##.to_owned(),
        // ele-1 holds on a primitive with a value and an `_x` holding only an id
        r##"{"resourceType":"Patient","id":"p","birthDate":"1970-01-01","_birthDate":{"id":"b"},"name":[{"given":["a"],"_given":[{"id":"g"}]}]}"##.to_owned(),
        // a contained resource referring to its container counts as referenced (dom-3)
    ];
    for line in &lines {
        let (errors, _) = check(line);
        assert!(errors.is_empty(), "{line}\n{errors:?}");
    }
}

#[test]
fn failing_resources() {
    let cases: Vec<(String, Vec<(&str, &str)>)> = vec![
        // unknown properties, at every depth
        (format!(r##"{{{OBS},"foo":1}}"##), vec![("json/unknown-property", "Observation.foo")]),
        (format!(r##"{{{OBS},"component":[{{"code":{{"text":"a","bar":true}}}}]}}"##), vec![("json/unknown-property", "Observation.component[0].code.bar")]),
        (format!(r##"{{{OBS},"valueQuantity":{{"value":1,"Unit":"mg"}}}}"##), vec![("json/unknown-property", "Observation.valueQuantity.Unit")]),
        (r##"{"resourceType":"Patient","id":"p","Gender":"male"}"##.to_owned(), vec![("json/unknown-property", "Patient.Gender")]),
        (r##"{"resourceType":"Patient","id":"p","@context":"x"}"##.to_owned(), vec![("json/unknown-property", "Patient.@context")]),
        (r##"{"resourceType":"Patient","id":"p","_name":{}}"##.to_owned(), vec![("json/unknown-property", "Patient._name")]),
        // contained and Bundle entries are read as their own type
        // The misspelled name leaves the Organization without name or identifier: org-1 fails too.
        (r##"{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Organization","id":"o","nam":"x"}],"managingOrganization":{"reference":"#o"}}"##.to_owned(), vec![("json/unknown-property", "Patient.contained[0].nam"), ("invariant/failed", "Patient.contained[0]")]),
        // `#` (the container) satisfies dom-3, but ref-1 fails on it in the HL7 validator: '#'.substring(1)
        // is empty, so `… in %rootResource.contained.id` is empty, and an empty result fails.
        (r##"{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Provenance","id":"pv","target":[{"reference":"#"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"display":"x"}}]}]}"##.to_owned(), vec![("reference/contained-unresolved", "Patient.contained[0].target[0]")]),
        (r##"{"resourceType":"Bundle","id":"b","type":"collection","entry":[{"resource":{"resourceType":"Observation","status":"final"}}]}"##.to_owned(), vec![("cardinality/min", "Bundle.entry[0].resource")]),
        // cardinality and shapes
        (r##"{"resourceType":"Observation","id":"o","code":{"text":"x"}}"##.to_owned(), vec![("cardinality/min", "Observation")]),
        (format!(r##"{{{OBS},"identifier":{{"value":"1"}}}}"##), vec![("json/expected-array", "Observation.identifier")]),
        (r##"{"resourceType":"Patient","id":"p","gender":["male"]}"##.to_owned(), vec![("json/expected-single", "Patient.gender")]),
        (r##"{"resourceType":"Patient","id":"p","name":[{"family":["a"]}]}"##.to_owned(), vec![("json/expected-single", "Patient.name[0].family")]),
        // JSON kinds
        (r##"{"resourceType":"Patient","id":"p","active":"true"}"##.to_owned(), vec![("json/wrong-type", "Patient.active")]),
        (r##"{"resourceType":"Patient","id":"p","multipleBirthInteger":"2"}"##.to_owned(), vec![("json/wrong-type", "Patient.multipleBirthInteger")]),
        (r##"{"resourceType":"Patient","id":"p","birthDate":19700101}"##.to_owned(), vec![("json/wrong-type", "Patient.birthDate")]),
        (r##"{"resourceType":"Patient","id":"p","maritalStatus":"M"}"##.to_owned(), vec![("json/wrong-type", "Patient.maritalStatus")]),
        (r##"{"resourceType":"Patient","id":"p","birthDate":{"value":"1970"}}"##.to_owned(), vec![("json/wrong-type", "Patient.birthDate")]),
        // primitive formats
        (r##"{"resourceType":"Patient","id":"p","birthDate":"1970-02-30"}"##.to_owned(), vec![("primitive/date", "Patient.birthDate")]),
        (format!(r##"{{{OBS},"effectiveDateTime":"2024-01-01T10:00:00"}}"##), vec![("primitive/datetime-no-tz", "Observation.effectiveDateTime")]),
        (format!(r##"{{{OBS},"issued":"2024-01-01"}}"##), vec![("primitive/date", "Observation.issued")]),
        (format!(r##"{{{OBS},"component":[{{"code":{{"text":"a"}},"valueQuantity":{{"value":"5"}}}}]}}"##), vec![("json/wrong-type", "Observation.component[0].valueQuantity.value")]),
        (r##"{"resourceType":"Patient","id":"p","multipleBirthInteger":1.5}"##.to_owned(), vec![("primitive/integer", "Patient.multipleBirthInteger")]),
        (r##"{"resourceType":"Patient","id":"p","name":[{"family":""}]}"##.to_owned(), vec![("primitive/empty", "Patient.name[0].family")]),
        (r##"{"resourceType":"Patient","id":"p","identifier":[{"system":"http://a b"}]}"##.to_owned(), vec![("primitive/uri-whitespace", "Patient.identifier[0].system")]),
        // choices
        (format!(r##"{{{OBS},"valueString":"a","valueBoolean":true}}"##), vec![("choice/multiple", "Observation.valueBoolean")]),
        (format!(r##"{{{OBS},"valueFoo":"a"}}"##), vec![("json/unknown-property", "Observation.valueFoo")]),
        (format!(r##"{{{OBS},"valuestring":"a"}}"##), vec![("json/unknown-property", "Observation.valuestring")]),
        // nulls and primitive extensions
        (r##"{"resourceType":"Patient","id":"p","name":[{"given":["A",null],"_given":[null,null]}]}"##.to_owned(), vec![("json/null-in-both", "Patient.name[0]")]),
        (r##"{"resourceType":"Patient","id":"p","gender":null}"##.to_owned(), vec![("json/null", "Patient.gender")]),
        (r##"{"resourceType":"Patient","id":"p","name":[null]}"##.to_owned(), vec![("json/null", "Patient.name[0]")]),
        (r##"{"resourceType":"Patient","id":"p","_gender":{"value":"x"}}"##.to_owned(), vec![("json/unknown-property", "Patient._gender.value")]),
        (r##"{"resourceType":"Patient","id":"p","_gender":"x"}"##.to_owned(), vec![("json/wrong-type", "Patient._gender")]),
        // empty objects
        (r##"{"resourceType":"Patient","id":"p","maritalStatus":{}}"##.to_owned(), vec![("json/empty-object", "Patient.maritalStatus")]),
        // required binding
        (r##"{"resourceType":"Patient","id":"p","gender":"F"}"##.to_owned(), vec![("binding/required", "Patient.gender")]),
        (r##"{"resourceType":"Observation","id":"o","status":"done","code":{"text":"x"}}"##.to_owned(), vec![("binding/required", "Observation.status")]),
        (r##"{"resourceType":"Binary","id":"b","contentType":"pdf"}"##.to_owned(), vec![("binding/required", "Binary.contentType")]),
        (r##"{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"bogus"}]}}"##.to_owned(), vec![("binding/required", "Condition.clinicalStatus")]),
        (r##"{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/1"},"clinicalStatus":{"text":"active"}}"##.to_owned(), vec![("binding/required", "Condition.clinicalStatus")]),
        (r##"{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://snomed.info/sct","code":"active"}]}}"##.to_owned(), vec![("binding/required", "Condition.clinicalStatus")]),
        // extensions (ext-1)
        (r##"{"resourceType":"Patient","id":"p","extension":[{"url":"http://x.org/a"}]}"##.to_owned(), vec![("invariant/ext-1", "Patient.extension[0]")]),
        (r##"{"resourceType":"Patient","id":"p","extension":[{"url":"http://x.org/a","valueString":"v","extension":[{"url":"b","valueCode":"c"}]}]}"##.to_owned(), vec![("invariant/ext-1", "Patient.extension[0]")]),
        (r##"{"resourceType":"Patient","id":"p","extension":[{"valueString":"v"}]}"##.to_owned(), vec![("cardinality/min", "Patient.extension[0]")]),
        // contained rules
        (r##"{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Organization","name":"x"}]}"##.to_owned(), vec![("resource/contained-id-missing", "Patient.contained[0]")]),
        (r##"{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Organization","id":"o","name":"x","meta":{"versionId":"1"}}],"managingOrganization":{"reference":"#o"}}"##.to_owned(), vec![("invariant/dom-4", "Patient.contained[0].meta.versionId")]),
        (r##"{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Organization","id":"o","name":"x","contained":[{"resourceType":"Organization","id":"o2","name":"y"}],"partOf":{"reference":"#o2"}}],"managingOrganization":{"reference":"#o"}}"##.to_owned(), vec![("invariant/dom-2", "Patient.contained[0].contained"), ("reference/contained-unresolved", "Patient.contained[0].partOf")]),
        (r##"{"resourceType":"Patient","id":"p","contained":[{"resourceType":"Foo","id":"o"}]}"##.to_owned(), vec![("resource/unknown-type", "Patient.contained[0]")]),
        // references
        (format!(r##"{{{OBS},"subject":{{"reference":"Medication/1","type":"Medication"}}}}"##), vec![("reference/type-not-allowed", "Observation.subject.type")]),
        (format!(r##"{{{OBS},"subject":{{"reference":"Patient/1","type":"Group"}}}}"##), vec![("reference/type-mismatch", "Observation.subject.reference")]),
        (format!(r##"{{{OBS},"subject":{{"reference":"#p1"}}}}"##), vec![("reference/contained-unresolved", "Observation.subject")]),
        (format!(r##"{{{OBS},"subject":{{"reference":"Patient?"}}}}"##), vec![("reference/conditional-query-invalid", "Observation.subject.reference")]),
        (format!(r##"{{{OBS},"contained":[{{"resourceType":"Patient","id":"p1"}}]}}"##), vec![("invariant/dom-3", "Observation.contained[0]")]),
        // narrative
        (r##"{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div>x</div>"}}"##.to_owned(), vec![("xhtml/namespace", "Patient.text.div")]),
        (r##"{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x()</script>y</div>"}}"##.to_owned(), vec![("xhtml/element", "Patient.text.div"), ("invariant/txt-1", "Patient.text.div")]),
        (r##"{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p onClick=\"x()\">y</p></div>"}}"##.to_owned(), vec![("xhtml/attribute", "Patient.text.div"), ("invariant/txt-1", "Patient.text.div")]),
        (r##"{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>y</div>"}}"##.to_owned(), vec![("xhtml/parse", "Patient.text.div")]),
    ];
    for (line, expected) in &cases {
        let (errors, _) = check(line);
        let expected: Vec<(String, String)> =
            expected.iter().map(|(c, p)| ((*c).to_owned(), (*p).to_owned())).collect();
        assert_eq!(&errors, &expected, "{line}");
    }
}

#[test]
fn warnings_only() {
    let cases = [
        (r##"{"resourceType":"Patient","id":"p","name":[]}"##, "json/empty-array"),
        (r##"{"resourceType":"Patient","id":"p","name":[{"family":" Doe"}]}"##, "primitive/string-whitespace"),
        (r##"{"resourceType":"Patient","id":"p","fhir_comments":["x"]}"##, "json/fhir-comments"),
        (
            r##"{"resourceType":"Patient","id":"p","generalPractitioner":[{"reference":"Practitioner?identifier=http://npi|123"}]}"##,
            "reference/conditional",
        ),
        (
            r##"{"resourceType":"Patient","id":"p","generalPractitioner":[{"reference":"Medication/1"}]}"##,
            "reference/implied-type-not-allowed",
        ),
        (
            r##"{"resourceType":"Patient","id":"p","generalPractitioner":[{"reference":"Practitioner/ 1"}]}"##,
            "reference/whitespace",
        ),
        (r##"{"resourceType":"Patient","id":"p","name":[{"family":"a\u0007b"}]}"##, "primitive/control-char"),
    ];
    for (line, code) in cases {
        let (errors, warnings) = check(line);
        assert!(errors.is_empty(), "{line}: {errors:?}");
        assert_eq!(warnings.iter().map(|w| w.0.as_str()).collect::<Vec<_>>(), vec![code], "{line}");
    }
}

#[test]
fn resource_type_last_at_every_depth() {
    // Nested resources whose resourceType comes last are still read as their type.
    let line = r##"{"id":"b","type":"collection","entry":[{"resource":{"id":"p","contained":[{"id":"o","name":"x","bogus":1,"resourceType":"Organization"}],"managingOrganization":{"reference":"#o"},"name":[{"family":"x"}],"resourceType":"Patient"}}],"resourceType":"Bundle"}"##;
    let (errors, _) = check(line);
    assert_eq!(
        errors,
        vec![("json/unknown-property".to_owned(), "Bundle.entry[0].resource.contained[0].bogus".to_owned())]
    );
}

#[test]
fn every_problem_of_a_line_is_reported() {
    let line = r##"{"resourceType":"Patient","id":"p","gender":"F","birthDate":"1970-13-01","foo":1,"name":[{"family":""}],"active":"yes"}"##;
    let (errors, _) = check(line);
    let codes: Vec<&str> = errors.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        codes,
        vec!["binding/required", "primitive/date", "json/unknown-property", "primitive/empty", "json/wrong-type"]
    );
}

#[test]
fn snapshot_messages() {
    let lines = [
        r##"{"resourceType":"Observation","id":"o","valueQuantity":{"value":"5"},"foo":1}"##.to_owned(),
        r##"{"resourceType":"Patient","id":"p","gender":"F","birthDate":"2013-04-31"}"##.to_owned(),
    ];
    let mut out = String::new();
    for line in &lines {
        let mut sink = |l: &LineResult<'_>| {
            for d in l.diagnostics {
                out.push_str(&format!("{d}\n"));
            }
        };
        validate_bytes(line.as_bytes(), &Options::default(), &mut sink);
    }
    insta::assert_snapshot!(out);
}

#[test]
fn levels() {
    // A US Core Patient (3.1.1, the default for an unversioned canonical) without identifier and
    // name, with a wrong gender and a wrong JSON kind.
    let line = r##"{"resourceType":"Patient","id":"p","meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},"gender":"F","active":"yes"}"##;
    let (errors, warnings) = check_at(line, Level::Strict);
    let codes = |v: &[(String, String)]| v.iter().map(|e| format!("{} {}", e.0, e.1)).collect::<Vec<_>>();
    assert_eq!(
        codes(&errors),
        vec![
            "binding/required Patient.gender",
            "json/wrong-type Patient.active",
            "profile/min Patient",
            "profile/min Patient"
        ]
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let (errors, warnings) = check_at(line, Level::StructureOnly);
    assert_eq!(errors.len(), 2);
    assert!(warnings.is_empty());
    // minimal: JSON kinds and line rules stay errors, the rest become warnings
    let (errors, warnings) = check_at(line, Level::Minimal);
    assert_eq!(errors.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), vec!["json/wrong-type"]);
    assert_eq!(
        warnings.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        vec!["binding/required", "profile/min", "profile/min"]
    );
    let (errors, _) = check_at(r#"{"resourceType":"Patient","id":"a_b"}"#, Level::Minimal);
    assert_eq!(errors.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), vec!["resource/id-invalid"]);
    // A profile no package here defines: a warning at strict, nothing at structure-only.
    let unknown = r##"{"resourceType":"Patient","id":"p","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/nonexistent"]}}"##;
    let (errors, warnings) = check_at(unknown, Level::Strict);
    assert!(errors.is_empty());
    assert_eq!(codes(&warnings), vec!["profile/unchecked Patient.meta.profile"]);
    assert!(check_at(unknown, Level::StructureOnly).1.is_empty());
}

#[test]
fn messages_never_quote_free_text() {
    // A marker in free-text and string fields that are wrong in every way we report.
    let lines = [
        r##"{"resourceType":"Patient","id":"p","name":[{"family":" SECRETPHI ","given":["SECRETPHI\u0001"]}],"gender":["SECRETPHI"]}"##,
        r##"{"resourceType":"Observation","id":"o","status":"final","code":{"text":"SECRETPHI"},"valueString":"SECRETPHI","valueBoolean":true,"note":[{"text":12}]}"##,
        r##"{"resourceType":"Patient","id":"p","generalPractitioner":[{"reference":"Practitioner?name=SECRETPHI"},{"reference":"Medication/SECRETPHI x"},{"reference":"Patient?SECRETPHI"}]}"##,
        r##"{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>SECRETPHI</script>SECRETPHI & more</div>"}}"##,
        r##"{"resourceType":"Patient","id":"p","address":[{"text":"SECRETPHI","line":"SECRETPHI"}],"telecom":[{"value":"","use":"home"}]}"##,
    ];
    for line in lines {
        let mut messages = Vec::new();
        let mut sink = |l: &LineResult<'_>| messages.extend(l.diagnostics.iter().map(|d| d.message().clone()));
        validate_bytes(line.as_bytes(), &Options::default(), &mut sink);
        assert!(!messages.is_empty(), "{line}");
        for m in &messages {
            assert!(!m.contains("SECRETPHI"), "message quotes free text: {m}");
        }
    }
}

/// `vs-1` (`($this as dateTime).toString().length() >= 8`, on every vital sign's effective[x]):
/// `toString()` of a date-time is its text as decoded from the line, escapes and all.
#[test]
fn vital_sign_date_precision() {
    let vs1 = |effective: &str| {
        let line = format!(
            r##"{{"resourceType":"Observation","id":"o","meta":{{"profile":["http://hl7.org/fhir/StructureDefinition/vitalsigns"]}},"status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"8867-4"}}]}},"subject":{{"reference":"Patient/p"}},"effectiveDateTime":"{effective}","valueQuantity":{{"value":60,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}}}"##
        );
        let mut messages = Vec::new();
        let mut sink = |l: &LineResult<'_>| messages.extend(l.diagnostics.iter().map(|d| d.message()));
        validate_bytes(line.as_bytes(), &Options::default(), &mut sink);
        messages.iter().any(|m| m.contains("vs-1"))
    };
    assert!(!vs1("2020-01-02"), "to the day");
    assert!(!vs1(r"2020-01-0\u0032"), "an escaped digit is a digit");
    assert!(vs1("2020"), "a year is not precise to the day");
    assert!(vs1(r"202\u0030-01"), "a month, escaped");
}

/// A resource declaring a profile and the profile it derives from (Synthea: `heartrate`, then
/// `vitalsigns`) gets the findings of each profile checked alone, in the declared order: after a
/// clean pass of the derived profile only what it does not hold of the base is checked (vs-2),
/// and the base is checked in full when the derived one reported something.
#[test]
fn derived_then_base_profile() {
    const HR: &str = "http://hl7.org/fhir/StructureDefinition/heartrate";
    const VS: &str = "http://hl7.org/fhir/StructureDefinition/vitalsigns";
    // `effective` "none": no value either (vs-2, which `heartrate` does not carry).
    let line = |profiles: &[&str], effective: &str| {
        let profiles = profiles.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(",");
        let value = r#","valueQuantity":{"value":60,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}"#;
        let (effective, value) = if effective == "none" { ("2020-01-02", "") } else { (effective, value) };
        format!(
            r##"{{"resourceType":"Observation","id":"o","meta":{{"profile":[{profiles}]}},"status":"final","category":[{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs"}}]}}],"code":{{"coding":[{{"system":"http://loinc.org","code":"8867-4"}}]}},"subject":{{"reference":"Patient/p"}},"effectiveDateTime":"{effective}"{value}}}"##
        )
    };
    let messages = |line: &str| {
        let mut messages = Vec::new();
        let mut sink = |l: &LineResult<'_>| messages.extend(l.diagnostics.iter().map(|d| d.message()));
        validate_bytes(line.as_bytes(), &Options::default(), &mut sink);
        // The profiles' findings (each names its profile); the base rules' are the same either way.
        messages.retain(|m| m.contains("/StructureDefinition/"));
        messages
    };
    for effective in ["2020-01-02", "2020", "none"] {
        let alone: Vec<String> = [HR, VS].iter().flat_map(|p| messages(&line(&[p], effective))).collect();
        assert_eq!(messages(&line(&[HR, VS], effective)), alone, "{effective}: derived, then base");
        let reversed: Vec<String> = [VS, HR].iter().flat_map(|p| messages(&line(&[p], effective))).collect();
        assert_eq!(messages(&line(&[VS, HR], effective)), reversed, "{effective}: base, then derived");
    }
    let failing = messages(&line(&[HR, VS], "2020"));
    assert!(failing.iter().any(|m| m.contains("vs-1") && m.contains("heartrate")), "{failing:?}");
    assert!(failing.iter().any(|m| m.contains("vs-1") && m.contains("vitalsigns")), "{failing:?}");
    assert!(messages(&line(&[HR, VS], "2020-01-02")).is_empty());
    // Without a value: heartrate passes (it does not carry vs-2), vitalsigns does not.
    assert!(messages(&line(&[HR], "none")).is_empty(), "{:?}", messages(&line(&[HR], "none")));
    let no_value = messages(&line(&[HR, VS], "none"));
    assert!(no_value.len() == 1 && no_value[0].contains("vs-2") && no_value[0].contains("vitalsigns"), "{no_value:?}");
}

/// Synthea's vital signs (each declares its profile and `vitalsigns`), as written and broken in
/// several ways: the profiles' findings with both declared are those of each profile alone, in
/// the declared order and in the reverse order.
#[test]
fn derived_then_base_profile_on_synthea() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/synthea-us-core/Observation.ndjson"
    ))
    .expect("the Synthea fixture");
    let profile_messages = |line: &str| {
        let mut messages = Vec::new();
        let mut sink = |l: &LineResult<'_>| messages.extend(l.diagnostics.iter().map(|d| d.message()));
        validate_bytes(line.as_bytes(), &Options::default(), &mut sink);
        messages.retain(|m| m.contains("/StructureDefinition/"));
        messages
    };
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    let mut broken_checked = 0;
    for line in text.lines() {
        let resource: serde_json::Value = serde_json::from_str(line).expect("JSON");
        let Some(profiles) = resource["meta"]["profile"].as_array().filter(|p| p.len() == 2) else { continue };
        let key = profiles[0].as_str().unwrap_or_default().to_owned();
        let n = seen.entry(key).or_default();
        *n += 1;
        if *n > 3 {
            continue;
        }
        let breaks: [&dyn Fn(&mut serde_json::Value); 6] = [
            &|_| {},
            &|r| drop(r.as_object_mut().map(|o| o.remove("valueQuantity"))),
            &|r| r["effectiveDateTime"] = "2020".into(),
            &|r| r["category"][0]["coding"][0]["code"] = "laboratory".into(),
            &|r| drop(r.as_object_mut().map(|o| o.remove("component"))),
            &|r| r["code"]["coding"][0]["code"] = "0000-0".into(),
        ];
        for (i, broken) in breaks.iter().enumerate() {
            let mut r = resource.clone();
            broken(&mut r);
            let with = |profiles: &[serde_json::Value]| {
                let mut r = r.clone();
                r["meta"]["profile"] = serde_json::Value::Array(profiles.to_vec());
                profile_messages(&r.to_string())
            };
            let (p, q) = (profiles[0].clone(), profiles[1].clone());
            let one = std::slice::from_ref;
            let alone: Vec<String> = with(one(&p)).into_iter().chain(with(one(&q))).collect();
            assert_eq!(with(&[p.clone(), q.clone()]), alone, "break {i} of {}", r["id"]);
            let reversed: Vec<String> = with(one(&q)).into_iter().chain(with(one(&p))).collect();
            assert_eq!(with(&[q, p]), reversed, "break {i} of {}, reversed", r["id"]);
            broken_checked += usize::from(!alone.is_empty());
        }
    }
    assert!(seen.len() >= 6, "vital-sign profiles seen: {seen:?}");
    assert!(broken_checked >= 20, "only {broken_checked} broken lines had profile findings");
}
