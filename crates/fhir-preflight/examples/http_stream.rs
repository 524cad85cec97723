//! Stream an HTTP response body into the validator chunk by chunk, as it arrives: the push API
//! (`Validator::feed`) needs no file and no whole body in memory. The example serves a fixture from
//! 127.0.0.1 itself, so it needs no network.
//! `cargo run -p fhir-preflight --example http_stream`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use fhir_preflight::{LineResult, LineStatus, Options, Validator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let body = std::fs::read("fixtures/example/bulk-export.ndjson")?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let served = body.clone();
    let server = std::thread::spawn(move || -> std::io::Result<()> {
        let (mut stream, _) = listener.accept()?;
        // Read the whole request (up to its blank line): closing a socket with unread bytes makes
        // the kernel reset the connection, and the client would lose the end of the body.
        let mut request = BufReader::new(stream.try_clone()?);
        let mut line = String::new();
        while request.read_line(&mut line)? > 2 {
            line.clear();
        }
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+ndjson\r\nContent-Length: {}\r\n\r\n",
            served.len()
        )?;
        // Send in small pieces, as a network would.
        for piece in served.chunks(1000) {
            stream.write_all(piece)?;
        }
        Ok(())
    });

    let mut stream = TcpStream::connect(address)?;
    write!(stream, "GET /export/Patient.ndjson HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
    let mut reader = BufReader::new(stream);
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let mut failed = Vec::new();
    let mut sink = |line: &LineResult<'_>| {
        if line.status != LineStatus::Imported {
            failed.push(line.line);
        }
    };
    let mut validator = Validator::new(&Options::default(), &mut sink);
    let mut chunk = [0u8; 4096];
    loop {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        validator.feed(&chunk[..n]);
    }
    let report = validator.finish();
    server.join().map_err(|_| "server thread failed")??;
    println!(
        "{} lines over HTTP: {} imported; failed lines {failed:?}",
        report.resources_scanned, report.resources_imported
    );
    assert_eq!(report.bytes_scanned, body.len() as u64);
    Ok(())
}
