//! HL7's official R4 package, fetched with npm (a package registry), pinned by version and
//! checksum, cached under `.cache/hl7/` (git-ignored), unpacked with `tar`.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// A pinned npm package of HL7's.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    /// `name@version` for `npm pack`.
    pub spec: &'static str,
    /// The file `npm pack` writes.
    pub tarball: &'static str,
    /// sha256 of that file.
    pub sha256: &'static str,
    /// Folder under `.cache/` to unpack into.
    pub folder: &'static str,
}

/// FHIR R4 4.0.1 definitions and examples (npm's sha1: 537ea7db3f3c7b3575fe2eaa7808bad21261cca3).
pub const R4: Package = Package {
    spec: "hl7.fhir.r4.examples@4.0.1",
    tarball: "hl7.fhir.r4.examples-4.0.1.tgz",
    sha256: "dce87f1b5b9341867033f7d1f544fa1b5232503f6d62813887ac6b8a8b6cb682",
    folder: "hl7",
};

/// FHIR R4B 4.3.0 core definitions (for the `fhir-model` oracle's list of types identical in R4 and R4B).
pub const R4B: Package = Package {
    spec: "hl7.fhir.r4b.core@4.3.0",
    tarball: "hl7.fhir.r4b.core-4.3.0.tgz",
    sha256: "2abd390aa5ad25eb269eb46dad45380db2fa7ba653e39926b75973475c3bc4ce",
    folder: "hl7-r4b",
};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn sha256_hex(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

/// The unpacked `package/` folder of R4's examples package.
pub fn package_dir() -> Result<PathBuf, String> {
    package_dir_of(R4)
}

/// The unpacked `package/` folder of `pkg`, fetching and checking the tarball first if needed.
pub fn package_dir_of(pkg: Package) -> Result<PathBuf, String> {
    let cache = workspace_root().join(".cache").join(pkg.folder);
    let unpacked = cache.join("package");
    let done = cache.join(".unpacked-ok");
    if std::fs::read_to_string(&done).is_ok_and(|s| s == pkg.sha256) {
        return Ok(unpacked);
    }
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let tarball = cache.join(pkg.tarball);
    if !tarball.exists() || sha256_hex(&tarball)? != pkg.sha256 {
        eprintln!("fetching {} with npm pack ...", pkg.spec);
        let status = Command::new("npm")
            .args(["pack", pkg.spec, "--silent"])
            .current_dir(&cache)
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("npm pack {}: {e} (is npm installed?)", pkg.spec))?;
        if !status.success() {
            return Err(format!("npm pack {} failed", pkg.spec));
        }
    }
    let sum = sha256_hex(&tarball)?;
    if sum != pkg.sha256 {
        return Err(format!("{}: sha256 {sum}, expected {}", tarball.display(), pkg.sha256));
    }
    let status =
        Command::new("tar").arg("-xzf").arg(&tarball).current_dir(&cache).status().map_err(|e| format!("tar: {e}"))?;
    if !status.success() {
        return Err(format!("tar -xzf {} failed", tarball.display()));
    }
    std::fs::write(&done, pkg.sha256).map_err(|e| e.to_string())?;
    Ok(unpacked)
}

pub fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}
