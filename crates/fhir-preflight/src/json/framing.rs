//! NDJSON framing over pushed chunks: physical lines with their 1-based number and 0-based byte
//! offset, whatever the chunk boundaries.
//!
//! Rules: only LF ends a line; one trailing CR is stripped (CRLF files); a last line without LF
//! counts; a line of only spaces, tabs and CRs is blank (counted, not a resource); a UTF-8
//! byte-order mark at the very start is dropped and reported once; a line longer than the limit is
//! counted byte by byte and never held in memory. Complete lines go into a [`Batch`], whose buffer
//! holds at most the batch target plus one line.

use memchr::memchr;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// A complete line waiting in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingLine {
    /// Its bytes in [`Batch::buf`], without terminator.
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// 1-based physical line number.
    pub(crate) number: u64,
    /// 0-based offset of its first byte in the input.
    pub(crate) offset: u64,
    /// `Some(length)` when it was longer than the limit (its bytes were not kept).
    pub(crate) too_long: Option<u64>,
}

/// Complete lines gathered for validation, plus the start of the line being read.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) buf: Vec<u8>,
    pub(crate) lines: Vec<PendingLine>,
    /// Bytes of complete lines in `buf`.
    pub(crate) line_bytes: usize,
}

impl Batch {
    /// Enough to validate: `target` bytes of complete lines, or 65,536 lines.
    pub(crate) fn is_full(&self, target: usize) -> bool {
        self.line_bytes >= target || self.lines.len() >= 65_536
    }
}

#[derive(Debug)]
enum Bom {
    /// Still reading the first bytes (held here, at most 3).
    Undecided([u8; 3], usize),
    Decided,
}

#[derive(Debug)]
pub(crate) struct Framer {
    max_line_bytes: u64,
    bom: Bom,
    /// The input started with a byte-order mark.
    pub(crate) had_bom: bool,
    /// Input offset of the first byte fed (0, or where a part of a file starts).
    pub(crate) start: u64,
    /// Input offset of the next byte (the bytes consumed so far, from `start`).
    pub(crate) offset: u64,
    /// Number of the line being read.
    number: u64,
    /// Input offset of the line being read.
    line_offset: u64,
    /// Where the line being read starts in the batch buffer.
    line_start: usize,
    /// `Some(length so far)` once the line being read went over the limit.
    skipping: Option<u64>,
    pub(crate) blank_lines: u64,
    pub(crate) first_blank_line: Option<u64>,
}

impl Framer {
    pub(crate) fn new(max_line_bytes: u64) -> Self {
        Framer {
            max_line_bytes,
            bom: Bom::Undecided([0; 3], 0),
            had_bom: false,
            start: 0,
            offset: 0,
            number: 1,
            line_offset: 0,
            line_start: 0,
            skipping: None,
            blank_lines: 0,
            first_blank_line: None,
        }
    }

    /// Read a part of a file from a line start: line `number` at byte `offset` (no byte-order
    /// mark can be there).
    pub(crate) fn resume(&mut self, number: u64, offset: u64) {
        self.bom = Bom::Decided;
        self.number = number;
        (self.start, self.offset, self.line_offset) = (offset, offset, offset);
    }

    /// Consume bytes of `chunk` into `batch` until the chunk is used up or the batch holds at least
    /// `target` bytes of complete lines; returns the number of bytes consumed.
    pub(crate) fn feed(&mut self, chunk: &[u8], batch: &mut Batch, target: usize) -> usize {
        let mut used = 0;
        if let Bom::Undecided(held, n) = &mut self.bom {
            while *n < 3 && used < chunk.len() {
                if chunk[used] != BOM[*n] {
                    // Not a BOM: the held bytes are ordinary content.
                    let held = *held;
                    let n = *n;
                    self.bom = Bom::Decided;
                    self.content(&held[..n], batch);
                    break;
                }
                held[*n] = chunk[used];
                *n += 1;
                used += 1;
            }
            if let Bom::Undecided(_, 3) = self.bom {
                self.bom = Bom::Decided;
                self.had_bom = true;
                self.offset += 3;
                self.line_offset = 3;
            }
            if let Bom::Undecided(..) = self.bom {
                return used;
            }
        }
        while used < chunk.len() && batch.line_bytes < target {
            let rest = &chunk[used..];
            match memchr(b'\n', rest) {
                Some(i) => {
                    self.content(&rest[..i], batch);
                    self.offset += 1;
                    self.end_line(batch);
                    used += i + 1;
                }
                None => {
                    self.content(rest, batch);
                    used = chunk.len();
                }
            }
        }
        used
    }

    /// End of input: a last line without LF still counts.
    pub(crate) fn finish(&mut self, batch: &mut Batch) {
        if let Bom::Undecided(held, n) = self.bom {
            self.bom = Bom::Decided;
            self.content(&held[..n], batch);
        }
        if self.skipping.is_some() || batch.buf.len() > self.line_start {
            self.end_line(batch);
        }
    }

    /// Drop the bytes of the line being read (input ended by a read error: it is incomplete).
    pub(crate) fn abandon_partial(&mut self, batch: &mut Batch) {
        batch.buf.truncate(self.line_start);
        self.skipping = None;
    }

    #[cfg(feature = "parallel")]
    /// Start a new batch `to` with the line being read in `from` (whose complete lines go on to be
    /// validated and delivered from `from`, untouched).
    pub(crate) fn handover(&mut self, from: &Batch, to: &mut Batch) {
        to.buf.clear();
        to.buf.extend_from_slice(&from.buf[self.line_start..]);
        to.lines.clear();
        to.line_bytes = 0;
        self.line_start = 0;
    }

    /// After the batch's complete lines were validated: keep only the line being read.
    pub(crate) fn compact(&mut self, batch: &mut Batch) {
        batch.buf.drain(..self.line_start);
        batch.lines.clear();
        batch.line_bytes = 0;
        self.line_start = 0;
    }

    /// Append line content (no LF inside).
    fn content(&mut self, bytes: &[u8], batch: &mut Batch) {
        self.offset += bytes.len() as u64;
        if let Some(len) = &mut self.skipping {
            *len += bytes.len() as u64;
            return;
        }
        let held = (batch.buf.len() - self.line_start) as u64;
        // One byte of slack for a CR that a CRLF ending will strip.
        if held + bytes.len() as u64 > self.max_line_bytes + 1 {
            self.skipping = Some(held + bytes.len() as u64);
            batch.buf.truncate(self.line_start);
        } else {
            batch.buf.extend_from_slice(bytes);
        }
    }

    fn end_line(&mut self, batch: &mut Batch) {
        let number = self.number;
        let offset = self.line_offset;
        self.number += 1;
        self.line_offset = self.offset;
        if let Some(mut len) = self.skipping.take() {
            // The bytes are gone; a final CR is part of `len` only in the (rare) CRLF case, which
            // cannot change the verdict: the line is over the limit either way.
            len = len.max(self.max_line_bytes + 1);
            batch.lines.push(PendingLine {
                start: self.line_start,
                end: self.line_start,
                number,
                offset,
                too_long: Some(len),
            });
            return;
        }
        let mut end = batch.buf.len();
        if end > self.line_start && batch.buf[end - 1] == b'\r' {
            end -= 1;
        }
        let line = &batch.buf[self.line_start..end];
        if line.iter().all(|&b| matches!(b, b' ' | b'\t' | b'\r')) {
            self.blank_lines += 1;
            self.first_blank_line.get_or_insert(number);
            batch.buf.truncate(self.line_start);
            return;
        }
        if (end - self.line_start) as u64 > self.max_line_bytes {
            batch.buf.truncate(self.line_start);
            let len = (end - self.line_start) as u64;
            batch.lines.push(PendingLine {
                start: self.line_start,
                end: self.line_start,
                number,
                offset,
                too_long: Some(len),
            });
            return;
        }
        batch.buf.truncate(end);
        batch.line_bytes += end - self.line_start;
        batch.lines.push(PendingLine { start: self.line_start, end, number, offset, too_long: None });
        self.line_start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (number, offset, content or None if too long) of a line.
    type Framed = (u64, u64, Option<Vec<u8>>);

    /// Every line, feeding `chunk`-sized pieces.
    fn frame(input: &[u8], chunk: usize, max: u64) -> (Vec<Framed>, Framer) {
        let mut framer = Framer::new(max);
        let mut batch = Batch::default();
        let mut out = Vec::new();
        let drain = |framer: &mut Framer, batch: &mut Batch, out: &mut Vec<_>| {
            for l in &batch.lines {
                out.push((l.number, l.offset, l.too_long.is_none().then(|| batch.buf[l.start..l.end].to_vec())));
            }
            framer.compact(batch);
        };
        for piece in input.chunks(chunk.max(1)) {
            let mut rest = piece;
            while !rest.is_empty() {
                let used = framer.feed(rest, &mut batch, 8);
                rest = &rest[used..];
                drain(&mut framer, &mut batch, &mut out);
            }
        }
        framer.finish(&mut batch);
        drain(&mut framer, &mut batch, &mut out);
        (out, framer)
    }

    fn lines(input: &[u8]) -> Vec<Framed> {
        let (reference, _) = frame(input, input.len().max(1), 1 << 20);
        for chunk in 1..=7 {
            assert_eq!(frame(input, chunk, 1 << 20).0, reference, "chunk size {chunk}");
        }
        reference
    }

    fn l(n: u64, o: u64, s: &str) -> Framed {
        (n, o, Some(s.as_bytes().to_vec()))
    }

    #[test]
    fn lf_crlf_and_last_line() {
        assert_eq!(lines(b"a\nbc\r\nd"), vec![l(1, 0, "a"), l(2, 2, "bc"), l(3, 6, "d")]);
        assert_eq!(lines(b"a\n"), vec![l(1, 0, "a")]);
        assert_eq!(lines(b""), vec![]);
    }

    #[test]
    fn cr_only_file_is_one_line() {
        assert_eq!(lines(b"a\rb\rc\r"), vec![l(1, 0, "a\rb\rc")]);
    }

    #[test]
    fn blank_lines_are_counted_not_framed() {
        let (got, framer) = frame(b"\n a\n \t\r\n\r\nb\n   ", 3, 100);
        assert_eq!(got, vec![l(2, 1, " a"), l(5, 10, "b")]);
        assert_eq!(framer.blank_lines, 4);
        assert_eq!(framer.first_blank_line, Some(1));
    }

    #[test]
    fn bom_dropped_in_any_chunking() {
        assert_eq!(lines(b"\xEF\xBB\xBFa\nb"), vec![l(1, 3, "a"), l(2, 5, "b")]);
        let (_, framer) = frame(b"\xEF\xBB\xBFa", 1, 100);
        assert!(framer.had_bom);
        // A partial BOM is content.
        assert_eq!(lines(b"\xEF\xBBa"), vec![(1, 0, Some(b"\xEF\xBBa".to_vec()))]);
        assert_eq!(lines(b"\xEF"), vec![(1, 0, Some(b"\xEF".to_vec()))]);
        let (_, framer) = frame(b"\xEF\xBB", 1, 100);
        assert!(!framer.had_bom);
        // A BOM alone is an empty file.
        let (got, framer) = frame(b"\xEF\xBB\xBF", 2, 100);
        assert_eq!(got, vec![]);
        assert!(framer.had_bom);
        // Only at the start.
        assert_eq!(lines(b"a\n\xEF\xBB\xBFb"), vec![l(1, 0, "a"), (2, 2, Some(b"\xEF\xBB\xBFb".to_vec()))]);
    }

    #[test]
    fn long_lines_are_not_kept() {
        for chunk in [1, 3, 64] {
            let (got, _) = frame(b"0123456789abcdefXYZ\nshort\n0123456789abcdef\r\n", chunk, 16);
            assert_eq!(got, vec![(1, 0, None), l(2, 20, "short"), l(3, 26, "0123456789abcdef")], "chunk {chunk}");
        }
        let (got, _) = frame(b"0123456789abcdefg", 5, 16);
        assert_eq!(got, vec![(1, 0, None)]);
    }

    #[test]
    fn offsets_reconstruct_input() {
        let input = b"{\"a\":1}\r\n\n  \n{\"b\":2}\nxyz";
        let (got, framer) = frame(input, 2, 100);
        for (_, offset, content) in &got {
            let content = content.as_ref().expect("kept");
            let o = *offset as usize;
            assert_eq!(&input[o..o + content.len()], &content[..]);
        }
        assert_eq!(framer.offset, input.len() as u64);
    }
}
