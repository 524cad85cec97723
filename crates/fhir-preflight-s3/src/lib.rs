//! S3 for the fhir-preflight CLI, as a small blocking facade over the AWS SDK for Rust: list a
//! prefix in key order, stream an object into a reader (resumed with a ranged GET, pinned to the
//! object's ETag, when a connection drops mid-object), write an object from a file (multipart above
//! a threshold) with SSE-KMS, read small objects, delete.
//!
//! The core crate knows nothing of this: the CLI validates what [`Reader`] yields like any other
//! `Read`. The SDK is asynchronous; [`S3`] owns a small Tokio runtime and blocks on it, so the
//! CLI's threads (rayon) each drive their own object while the runtime's two threads serve the
//! sockets.
//!
//! Credentials, region and endpoint are found the way every AWS tool finds them (`aws-config`):
//! environment, shared config and credentials files with `AWS_PROFILE`, SSO, web identity, ECS
//! container and EC2 instance metadata; `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3` (or an explicit
//! endpoint) for an S3-compatible server, which is then addressed path-style. Throttling and 5xx
//! responses are retried by the SDK's standard retry mode (exponential backoff with jitter, 5
//! attempts in all unless `AWS_MAX_ATTEMPTS` says otherwise); a body that fails mid-way is resumed
//! up to [`RESUMES`] times.

use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use bytes::Bytes;

/// How many times a body that fails mid-way is resumed from where it stopped.
pub const RESUMES: u32 = 5;

/// S3's smallest part (except the last) of a multipart upload.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

/// An `s3://bucket/key` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    /// The key or prefix (may be empty: the whole bucket).
    pub key: String,
}

impl S3Uri {
    /// `s3://bucket/key…`; `None` for anything else.
    pub fn parse(text: &str) -> Option<S3Uri> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return None;
        }
        Some(S3Uri { bucket: bucket.to_owned(), key: key.to_owned() })
    }

    /// The URI of `key` in the same bucket.
    pub fn with_key(&self, key: &str) -> S3Uri {
        S3Uri { bucket: self.bucket.clone(), key: key.to_owned() }
    }
}

impl std::fmt::Display for S3Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// An object found under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: u64,
}

/// What went wrong, naming the URI.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{uri}: access denied (HTTP 403): check the credentials, the bucket policy and the KMS key policy")]
    Forbidden { uri: String },
    #[error("{uri}: not found (HTTP 404): {what}")]
    NotFound { uri: String, what: String },
    #[error("{uri}: {message}")]
    Other { uri: String, message: String },
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Forbidden { .. } => io::ErrorKind::PermissionDenied,
            Error::NotFound { .. } => io::ErrorKind::NotFound,
            Error::Other { .. } => io::ErrorKind::Other,
        };
        io::Error::new(kind, e.to_string())
    }
}

/// An SDK error as one of ours: the HTTP status decides, the SDK's own text explains the rest.
fn error<E: std::error::Error + 'static>(uri: &str, e: &SdkError<E, HttpResponse>) -> Error {
    let status = e.raw_response().map(|r| r.status().as_u16());
    let text = short(&DisplayErrorContext(e).to_string());
    if matches!(e, SdkError::DispatchFailure(_)) {
        let message = if text.contains("credentials") {
            format!("no usable AWS credentials (environment, shared config and profile, SSO, web identity, container or instance metadata): {text}")
        } else {
            format!("cannot reach S3: {text}")
        };
        return Error::Other { uri: uri.to_owned(), message };
    }
    match status {
        Some(403) => Error::Forbidden { uri: uri.to_owned() },
        Some(404) => Error::NotFound {
            uri: uri.to_owned(),
            what: if text.contains("NoSuchBucket") { "no such bucket".into() } else { "no such key".into() },
        },
        Some(status) => Error::Other { uri: uri.to_owned(), message: format!("HTTP {status}: {text}") },
        None => Error::Other { uri: uri.to_owned(), message: text },
    }
}

/// The SDK's error text without the debug dump it appends (`… (DispatchFailure(…))`).
fn short(text: &str) -> String {
    let cut = ["DispatchFailure(", "ServiceError(", "TimeoutError(", "ResponseError(", "ConstructionFailure("]
        .iter()
        .filter_map(|v| text.find(&format!(" ({v}")))
        .min()
        .unwrap_or(text.len());
    text[..cut].to_owned()
}

#[derive(Debug)]
struct Inner {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_s3::Client,
}

/// A connection to S3 (or an S3-compatible server); cheap to clone.
#[derive(Debug, Clone)]
pub struct S3 {
    inner: Arc<Inner>,
}

impl S3 {
    /// Credentials, region and endpoint from the environment as the AWS CLI finds them;
    /// `endpoint` overrides the endpoint (`--endpoint-url`). With an endpoint, objects are
    /// addressed path-style (`http://host/bucket/key`), as S3-compatible servers expect.
    pub fn from_env(endpoint: Option<&str>) -> Result<S3, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fhir-preflight-s3")
            .enable_all()
            .build()
            .map_err(|e| Error::Other { uri: "s3://".into(), message: format!("cannot start the S3 runtime: {e}") })?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        // 5 attempts unless the user's AWS configuration says otherwise (AWS_MAX_ATTEMPTS).
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
            loader = loader.retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(5));
        }
        let config = runtime.block_on(loader.load());
        let mut builder = aws_sdk_s3::config::Builder::from(&config);
        if config.region().is_none() {
            // S3 answers a bucket's region; us-east-1 is where an unconfigured AWS tool starts.
            builder = builder.region(aws_sdk_s3::config::Region::new("us-east-1"));
        }
        if let Some(url) = endpoint {
            builder = builder.endpoint_url(url);
        }
        if endpoint.is_some() || config.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some() {
            builder = builder.force_path_style(true);
        }
        let client = aws_sdk_s3::Client::from_conf(builder.build());
        Ok(S3 { inner: Arc::new(Inner { runtime, client }) })
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.inner.runtime.block_on(f)
    }

    fn client(&self) -> &aws_sdk_s3::Client {
        &self.inner.client
    }

    /// Every object whose key starts with `uri.key`, in key order (S3 lists keys in UTF-8 binary
    /// order).
    pub fn list(&self, uri: &S3Uri) -> Result<Vec<Object>, Error> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = self
                .client()
                .list_objects_v2()
                .bucket(&uri.bucket)
                .prefix(&uri.key)
                .set_continuation_token(token.take());
            let page = self.block_on(request.send()).map_err(|e| error(&uri.to_string(), &e))?;
            for o in page.contents() {
                if let Some(key) = o.key() {
                    objects.push(Object { key: key.to_owned(), size: o.size().map_or(0, |s| s.max(0) as u64) });
                }
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(objects)
    }

    /// The size of the object, or `None` when there is no such key (an error when the bucket is
    /// missing or forbidden).
    pub fn size(&self, uri: &S3Uri) -> Result<Option<u64>, Error> {
        let request = self.client().head_object().bucket(&uri.bucket).key(&uri.key);
        match self.block_on(request.send()) {
            Ok(head) => Ok(Some(head.content_length().map_or(0, |s| s.max(0) as u64))),
            Err(e) => match error(&uri.to_string(), &e) {
                // HEAD has no body to tell a missing bucket from a missing key: ask the bucket.
                Error::NotFound { .. } => {
                    let bucket = self.client().head_bucket().bucket(&uri.bucket);
                    match self.block_on(bucket.send()) {
                        Ok(_) => Ok(None),
                        Err(e) => Err(match error(&format!("s3://{}", uri.bucket), &e) {
                            Error::NotFound { uri, .. } => Error::NotFound { uri, what: "no such bucket".into() },
                            other => other,
                        }),
                    }
                }
                other => Err(other),
            },
        }
    }

    /// The object as a stream of bytes (never all in memory): fetched ahead by a task on the
    /// runtime, at most [`AHEAD`] chunks, while the caller validates. `size`, when known, lets a
    /// body cut short be told from the end.
    pub fn reader(&self, uri: &S3Uri, size: Option<u64>) -> Reader {
        let (tx, rx) = tokio::sync::mpsc::channel(AHEAD);
        let fetch =
            Fetch { client: self.client().clone(), uri: uri.clone(), size, etag: None, received: 0, failures: 0 };
        self.inner.runtime.spawn(fetch.run(tx));
        Reader { rx, chunk: Bytes::new(), at: 0 }
    }

    /// A small object, whole (a manifest).
    pub fn get(&self, uri: &S3Uri) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        self.reader(uri, None)
            .read_to_end(&mut out)
            .map_err(|e| Error::Other { uri: uri.to_string(), message: e.to_string() })?;
        Ok(out)
    }

    /// Write `bytes` as the object, with SSE-KMS under `kms_key` when given.
    pub fn put(&self, uri: &S3Uri, bytes: Vec<u8>, kms_key: Option<&str>) -> Result<(), Error> {
        let mut request = self.client().put_object().bucket(&uri.bucket).key(&uri.key).body(ByteStream::from(bytes));
        if let Some(key) = kms_key {
            request = request.server_side_encryption(ServerSideEncryption::AwsKms).ssekms_key_id(key);
        }
        self.block_on(request.send()).map(|_| ()).map_err(|e| error(&uri.to_string(), &e))
    }

    /// Write the file at `path` as the object: one PUT up to `part_bytes`, a multipart upload of
    /// `part_bytes` parts above (aborted if a part fails, so no partial object is ever visible).
    pub fn upload(&self, uri: &S3Uri, path: &Path, kms_key: Option<&str>, part_bytes: u64) -> Result<(), Error> {
        let io = |e: io::Error| Error::Other { uri: uri.to_string(), message: format!("{}: {e}", path.display()) };
        let part_bytes = part_bytes.max(MIN_PART_BYTES);
        let mut file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size <= part_bytes {
            let mut bytes = Vec::with_capacity(size as usize);
            file.read_to_end(&mut bytes).map_err(io)?;
            return self.put(uri, bytes, kms_key);
        }
        let mut create = self.client().create_multipart_upload().bucket(&uri.bucket).key(&uri.key);
        if let Some(key) = kms_key {
            create = create.server_side_encryption(ServerSideEncryption::AwsKms).ssekms_key_id(key);
        }
        let created = self.block_on(create.send()).map_err(|e| error(&uri.to_string(), &e))?;
        let Some(upload_id) = created.upload_id().map(str::to_owned) else {
            return Err(Error::Other {
                uri: uri.to_string(),
                message: "the server gave no multipart upload id".into(),
            });
        };
        let result = self.parts(uri, &mut file, &upload_id, part_bytes);
        if result.is_err() {
            let abort = self.client().abort_multipart_upload().bucket(&uri.bucket).key(&uri.key).upload_id(&upload_id);
            let _ = self.block_on(abort.send());
        }
        result
    }

    fn parts(&self, uri: &S3Uri, file: &mut std::fs::File, upload_id: &str, part_bytes: u64) -> Result<(), Error> {
        let mut parts = Vec::new();
        for number in 1.. {
            let mut part = Vec::with_capacity(part_bytes as usize);
            file.by_ref()
                .take(part_bytes)
                .read_to_end(&mut part)
                .map_err(|e| Error::Other { uri: uri.to_string(), message: e.to_string() })?;
            if part.is_empty() {
                break;
            }
            let request = self
                .client()
                .upload_part()
                .bucket(&uri.bucket)
                .key(&uri.key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(part));
            let done = self.block_on(request.send()).map_err(|e| error(&uri.to_string(), &e))?;
            parts.push(CompletedPart::builder().part_number(number).set_e_tag(done.e_tag().map(str::to_owned)).build());
        }
        let complete = self
            .client()
            .complete_multipart_upload()
            .bucket(&uri.bucket)
            .key(&uri.key)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build());
        self.block_on(complete.send()).map(|_| ()).map_err(|e| error(&uri.to_string(), &e))
    }

    /// Remove the object (no error when it is already gone).
    pub fn delete(&self, uri: &S3Uri) -> Result<(), Error> {
        let request = self.client().delete_object().bucket(&uri.bucket).key(&uri.key);
        self.block_on(request.send()).map(|_| ()).map_err(|e| error(&uri.to_string(), &e))
    }

    /// The object's server-side encryption and KMS key id, as the server reports them (tests).
    pub fn encryption(&self, uri: &S3Uri) -> Result<(Option<String>, Option<String>), Error> {
        let request = self.client().head_object().bucket(&uri.bucket).key(&uri.key);
        let head = self.block_on(request.send()).map_err(|e| error(&uri.to_string(), &e))?;
        Ok((head.server_side_encryption().map(|s| s.as_str().to_owned()), head.ssekms_key_id().map(str::to_owned)))
    }
}

/// How many chunks of an object are fetched ahead of the reader.
pub const AHEAD: usize = 16;

/// An object's bytes as they arrive (see [`S3::reader`]): a `Read`, or an iterator of its chunks.
#[derive(Debug)]
pub struct Reader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    chunk: Bytes,
    at: usize,
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.chunk.len() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The object's chunks as they arrive, for `fhir_preflight::validate_chunks` (no copy): what a
/// `read` left of the current chunk first. An error ends it.
impl Iterator for Reader {
    type Item = io::Result<Bytes>;

    fn next(&mut self) -> Option<io::Result<Bytes>> {
        if self.at < self.chunk.len() {
            let rest = self.chunk.slice(self.at..);
            self.at = self.chunk.len();
            return Some(Ok(rest));
        }
        self.rx.blocking_recv()
    }
}

/// The task behind a [`Reader`]. A body that fails or ends early is asked again from the byte it
/// stopped at (`Range`), for the same version of the object (`If-Match` its ETag), up to
/// [`RESUMES`] times in a row with a growing pause (any byte received starts the count again);
/// then the read fails naming the URI. A missing, forbidden or changed object fails at once.
struct Fetch {
    client: aws_sdk_s3::Client,
    uri: S3Uri,
    size: Option<u64>,
    etag: Option<String>,
    /// Bytes of the object received so far.
    received: u64,
    /// Failures since the last byte received.
    failures: u32,
}

impl Fetch {
    async fn run(mut self, tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>) {
        if let Err(e) = self.fetch(&tx).await {
            let _ = tx.send(Err(e)).await;
        }
    }

    async fn fetch(&mut self, tx: &tokio::sync::mpsc::Sender<io::Result<Bytes>>) -> io::Result<()> {
        loop {
            if self.size.is_some_and(|size| self.received >= size) {
                return Ok(());
            }
            let mut request = self.client.get_object().bucket(&self.uri.bucket).key(&self.uri.key);
            if self.received > 0 {
                request = request.range(format!("bytes={}-", self.received));
            }
            if let Some(etag) = &self.etag {
                request = request.if_match(etag);
            }
            let mut body = match request.send().await {
                Ok(got) => {
                    if self.etag.is_none() {
                        self.etag = got.e_tag().map(str::to_owned);
                    }
                    if self.size.is_none() && self.received == 0 {
                        self.size = got.content_length().map(|s| s.max(0) as u64);
                    }
                    got.body
                }
                Err(e) => match error(&self.uri.to_string(), &e) {
                    e @ (Error::Forbidden { .. } | Error::NotFound { .. }) => return Err(e.into()),
                    Error::Other { message, .. } if message.starts_with("HTTP 412") => {
                        return Err(io::Error::other(format!("{}: the object changed while it was read", self.uri)));
                    }
                    e => {
                        self.failed(e.to_string()).await?;
                        continue;
                    }
                },
            };
            loop {
                match body.next().await {
                    Some(Ok(bytes)) => {
                        self.received += bytes.len() as u64;
                        self.failures = 0;
                        if tx.send(Ok(bytes)).await.is_err() {
                            return Ok(()); // the reader is gone
                        }
                    }
                    Some(Err(e)) => {
                        self.failed(DisplayErrorContext(&e).to_string()).await?;
                        break;
                    }
                    None if self.size.is_some_and(|size| self.received < size) => {
                        let why = format!("the body ended early ({} of {:?} bytes)", self.received, self.size);
                        self.failed(why).await?;
                        break;
                    }
                    None => return Ok(()),
                }
            }
        }
    }

    /// A failure: pause before resuming, or give up.
    async fn failed(&mut self, why: String) -> io::Result<()> {
        self.failures += 1;
        if self.failures > RESUMES {
            return Err(io::Error::other(format!(
                "{}: the connection failed {} times in a row after {} bytes: {why}",
                self.uri, self.failures, self.received
            )));
        }
        tokio::time::sleep(Duration::from_millis(100 << self.failures.min(6))).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(S3Uri::parse("s3://b/p/x.ndjson"), Some(S3Uri { bucket: "b".into(), key: "p/x.ndjson".into() }));
        assert_eq!(S3Uri::parse("s3://b"), Some(S3Uri { bucket: "b".into(), key: String::new() }));
        assert_eq!(S3Uri::parse("s3:///k"), None);
        assert_eq!(S3Uri::parse("/tmp/x"), None);
        assert_eq!(S3Uri::parse("s3://b/p/").map(|u| u.to_string()).as_deref(), Some("s3://b/p/"));
    }
}
