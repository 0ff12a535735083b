//! The byte source under the parser: hashes and counts the raw bytes, handles the byte-order mark
//! and turns any configured encoding into UTF-8.
//!
//! UTF-8 input passes through untouched (validation happens per field, so errors can name a line
//! and column). Other encodings go through a streaming `encoding_rs` decoder; a malformed sequence
//! (only possible in UTF-16) becomes the byte 0xFF, which is never valid UTF-8, so the parser
//! reports it as an encoding problem in the right line and column.

use std::io::{self, Read};

use encoding_rs::{Decoder, DecoderResult, Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::CsvEncoding;

const CHUNK: usize = 64 * 1024;
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// A byte-order mark found at the start of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bom {
    Utf8,
    Utf16Le,
    Utf16Be,
}

impl Bom {
    fn detect(prefix: &[u8]) -> Option<Bom> {
        if prefix.starts_with(UTF8_BOM) {
            Some(Bom::Utf8)
        } else if prefix.starts_with(&[0xFF, 0xFE]) {
            Some(Bom::Utf16Le)
        } else if prefix.starts_with(&[0xFE, 0xFF]) {
            Some(Bom::Utf16Be)
        } else {
            None
        }
    }

    fn len(self) -> usize {
        match self {
            Bom::Utf8 => 3,
            Bom::Utf16Le | Bom::Utf16Be => 2,
        }
    }

    fn setting(self) -> &'static str {
        match self {
            Bom::Utf8 => "utf-8",
            Bom::Utf16Le => "utf-16le",
            Bom::Utf16Be => "utf-16be",
        }
    }
}

/// Raw input with hashing, BOM handling and decoding to UTF-8.
pub(super) struct Source {
    inner: Box<dyn Read + Send>,
    hasher: blake3::Hasher,
    bytes: u64,
    decoder: Option<Decoder>,
    pending: Vec<u8>,
    pending_pos: usize,
    out: Vec<u8>,
    out_pos: usize,
    eof: bool,
    finished: bool,
}

/// Why a source could not be set up.
pub(super) enum SourceError {
    Io(io::Error),
    /// The byte-order mark contradicts the configured encoding; the text says what to set.
    BomMismatch(String),
}

impl Source {
    /// Reads the first bytes, checks the byte-order mark against `encoding` and prepares decoding.
    pub(super) fn new(
        inner: Box<dyn Read + Send>,
        encoding: CsvEncoding,
    ) -> Result<Source, SourceError> {
        let mut source = Source {
            inner,
            hasher: blake3::Hasher::new(),
            bytes: 0,
            decoder: None,
            pending: Vec::new(),
            pending_pos: 0,
            out: Vec::new(),
            out_pos: 0,
            eof: false,
            finished: false,
        };
        source.read_prefix().map_err(SourceError::Io)?;
        let bom = Bom::detect(&source.pending);
        let decoding = choose_decoding(encoding, bom)?;
        source.pending_pos = bom.map_or(0, Bom::len);
        source.decoder = decoding.map(Encoding::new_decoder_without_bom_handling);
        Ok(source)
    }

    /// Raw bytes read so far.
    pub(super) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// blake3 hex of the raw bytes read so far.
    pub(super) fn hash_hex(&self) -> String {
        self.hasher.finalize().to_hex().to_string()
    }

    fn read_prefix(&mut self) -> io::Result<()> {
        let mut prefix = [0u8; 3];
        let mut filled = 0;
        while filled < prefix.len() {
            let n = self.read_raw(&mut prefix[filled..])?;
            if n == 0 {
                self.eof = true;
                break;
            }
            filled += n;
        }
        self.pending.extend_from_slice(&prefix[..filled]);
        Ok(())
    }

    fn read_raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.hasher.update(&buf[..n]);
                    self.bytes += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn read_plain(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.pending[self.pending_pos..];
        if rest.is_empty() {
            return if self.eof { Ok(0) } else { self.read_raw(buf) };
        }
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pending_pos += n;
        Ok(n)
    }

    fn read_decoded(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.out.len() {
            if self.finished {
                return Ok(0);
            }
            self.decode_more()?;
        }
        let n = (self.out.len() - self.out_pos).min(buf.len());
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }

    fn refill_pending(&mut self) -> io::Result<()> {
        if self.pending_pos < self.pending.len() || self.eof {
            return Ok(());
        }
        let mut chunk = std::mem::take(&mut self.pending);
        chunk.resize(CHUNK, 0);
        let n = self.read_raw(&mut chunk)?;
        chunk.truncate(n);
        self.pending = chunk;
        self.pending_pos = 0;
        self.eof = n == 0;
        Ok(())
    }

    /// Decodes the next piece of input into `out`; sets `finished` after the final flush.
    fn decode_more(&mut self) -> io::Result<()> {
        self.refill_pending()?;
        let Some(decoder) = self.decoder.as_mut() else {
            self.finished = true;
            return Ok(());
        };
        self.out.resize(CHUNK, 0);
        self.out_pos = 0;
        let last = self.eof;
        let mut written = 0;
        // One byte stays free so a malformed sequence can always be marked.
        while written + 1 < CHUNK {
            let src = &self.pending[self.pending_pos..];
            let (result, read, wrote) = decoder.decode_to_utf8_without_replacement(
                src,
                &mut self.out[written..CHUNK - 1],
                last,
            );
            self.pending_pos += read;
            written += wrote;
            match result {
                DecoderResult::InputEmpty => {
                    self.finished = last;
                    break;
                }
                DecoderResult::OutputFull => break,
                DecoderResult::Malformed(_, _) => {
                    self.out[written] = 0xFF;
                    written += 1;
                }
            }
        }
        self.out.truncate(written);
        Ok(())
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.decoder.is_some() {
            self.read_decoded(buf)
        } else {
            self.read_plain(buf)
        }
    }
}

/// The decoder to use (None = UTF-8 pass-through), or why the BOM contradicts the configuration.
fn choose_decoding(
    encoding: CsvEncoding,
    bom: Option<Bom>,
) -> Result<Option<&'static Encoding>, SourceError> {
    match (encoding, bom) {
        (CsvEncoding::Utf8, None | Some(Bom::Utf8)) => Ok(None),
        (CsvEncoding::Windows1252, None) => Ok(Some(WINDOWS_1252)),
        (CsvEncoding::Utf16Le | CsvEncoding::Utf16Be, Some(Bom::Utf16Le)) => Ok(Some(UTF_16LE)),
        (CsvEncoding::Utf16Le | CsvEncoding::Utf16Be, Some(Bom::Utf16Be)) => Ok(Some(UTF_16BE)),
        (CsvEncoding::Utf16Le, None) => Ok(Some(UTF_16LE)),
        (CsvEncoding::Utf16Be, None) => Ok(Some(UTF_16BE)),
        (configured, Some(bom)) => Err(SourceError::BomMismatch(format!(
            "the file starts with a {} byte-order mark but encoding = \"{}\" is configured; set encoding = \"{}\"",
            bom.setting().to_uppercase(),
            configured.config_name(),
            bom.setting()
        ))),
    }
}
