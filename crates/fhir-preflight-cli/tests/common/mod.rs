//! Helpers shared by the CLI's integration tests.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

pub fn cmd() -> Command {
    let mut cmd = Command::cargo_bin("fhir-preflight").expect("binary");
    cmd.env_remove("RUST_BACKTRACE");
    cmd
}

/// Every file under `dir`: relative path → bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("prefix").to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

pub fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest")).expect("manifest JSON")
}

pub fn line_ids(records: &[u8]) -> Vec<u64> {
    records
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice::<serde_json::Value>(l).expect("record")["lineId"].as_u64().expect("lineId"))
        .collect()
}

/// Standard output of a finished command, as text.
pub fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).expect("UTF-8 stdout")
}

/// Standard error of a finished command, as text.
pub fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).expect("UTF-8 stderr")
}

/// A command running the binary as an unprivileged user (nobody, through `setpriv`) when the tests
/// run as root, for whom no permission bit is an obstacle; the binary is copied into `tmp` (made
/// world-readable) so that the user can reach it. As another user, the binary itself.
#[cfg(unix)]
pub fn unprivileged(tmp: &Path) -> std::process::Command {
    use std::os::unix::fs::PermissionsExt;
    let bin = assert_cmd::cargo::cargo_bin("fhir-preflight");
    // The effective user through `id -u` (the tests use no unsafe code).
    let uid = std::process::Command::new("id").arg("-u").output().expect("id -u");
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return std::process::Command::new(bin);
    }
    std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let copy = tmp.join("fhir-preflight");
    std::fs::copy(&bin, &copy).expect("copy the binary");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(copy);
    cmd
}
