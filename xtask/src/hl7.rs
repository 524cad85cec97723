//! HL7's official R4 package, fetched with npm (a package registry), pinned by version and
//! checksum, cached under `.cache/hl7/` (git-ignored), unpacked with `tar`.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

pub(crate) const PACKAGE: &str = "hl7.fhir.r4.examples@4.0.1";
const TARBALL: &str = "hl7.fhir.r4.examples-4.0.1.tgz";
/// sha256 of the npm tarball (npm's own sha1 is 537ea7db3f3c7b3575fe2eaa7808bad21261cca3).
const TARBALL_SHA256: &str = "dce87f1b5b9341867033f7d1f544fa1b5232503f6d62813887ac6b8a8b6cb682";

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn sha256_hex(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

/// The unpacked `package/` folder, fetching and checking the tarball first if needed.
pub(crate) fn package_dir() -> Result<PathBuf, String> {
    let cache = workspace_root().join(".cache/hl7");
    let unpacked = cache.join("package");
    let done = cache.join(".unpacked-ok");
    if done.exists() {
        return Ok(unpacked);
    }
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let tarball = cache.join(TARBALL);
    if !tarball.exists() || sha256_hex(&tarball)? != TARBALL_SHA256 {
        eprintln!("fetching {PACKAGE} with npm pack ...");
        let status = Command::new("npm")
            .args(["pack", PACKAGE, "--silent"])
            .current_dir(&cache)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("npm pack {PACKAGE}: {e} (is npm installed?)"))?;
        if !status.success() {
            return Err(format!("npm pack {PACKAGE} failed"));
        }
    }
    let sum = sha256_hex(&tarball)?;
    if sum != TARBALL_SHA256 {
        return Err(format!("{}: sha256 {sum}, expected {TARBALL_SHA256}", tarball.display()));
    }
    let status =
        Command::new("tar").arg("-xzf").arg(&tarball).current_dir(&cache).status().map_err(|e| format!("tar: {e}"))?;
    if !status.success() {
        return Err(format!("tar -xzf {} failed", tarball.display()));
    }
    std::fs::write(&done, TARBALL_SHA256).map_err(|e| e.to_string())?;
    Ok(unpacked)
}

pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}
