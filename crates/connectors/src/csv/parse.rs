//! The RFC 4180 record scanner: works on UTF-8 bytes one physical line at a time.
//!
//! A line is read with its terminator into a reused buffer; unquoted fields are sliced out of it
//! with `memchr`, quoted fields are copied piecewise between quotes and may pull in further lines.
//! Problems are reported by column *index*; the reader turns indexes into column names.

use std::io::{self, BufRead};

use memchr::{memchr, memchr3};

use super::MAX_RECORD_BYTES;

/// A parsed record before the field count is checked.
#[derive(Debug)]
pub(super) struct RawRecord {
    pub(super) line: u64,
    pub(super) fields: Vec<String>,
}

/// What went wrong in a row.
#[derive(Debug)]
pub(super) enum Problem {
    /// A `"` inside a field that did not start with one.
    QuoteInUnquoted,
    /// Something other than a delimiter or line end after a closing quote.
    AfterClosingQuote,
    /// A carriage return inside an unquoted field (not followed by a line feed).
    BareCarriageReturn,
    /// The field's bytes are not valid UTF-8 after decoding.
    InvalidUtf8,
    /// End of file inside a quoted field that started at this line.
    Unterminated { quote_line: u64 },
    /// A record or line longer than [`MAX_RECORD_BYTES`].
    TooLong,
    /// Reading failed.
    Io(io::Error),
}

impl Problem {
    pub(super) fn is_fatal(&self) -> bool {
        matches!(
            self,
            Problem::Unterminated { .. } | Problem::TooLong | Problem::Io(_)
        )
    }
}

/// A bad row: where it starts, which column (index), and what.
#[derive(Debug)]
pub(super) struct ParseError {
    pub(super) line: u64,
    pub(super) column: Option<usize>,
    pub(super) problem: Problem,
}

type Parsed<T> = Result<T, ParseError>;

/// Streams records out of UTF-8 input.
pub(super) struct Parser<R> {
    input: R,
    delimiter: u8,
    line: Vec<u8>,
    /// Physical line number of the line in `line` (0 before the first read).
    line_no: u64,
    quoted: Vec<u8>,
    width_hint: usize,
}

impl<R: BufRead> Parser<R> {
    pub(super) fn new(input: R, delimiter: u8) -> Parser<R> {
        Parser {
            input,
            delimiter,
            line: Vec::with_capacity(1024),
            line_no: 0,
            quoted: Vec::new(),
            width_hint: 8,
        }
    }

    pub(super) fn input(&self) -> &R {
        &self.input
    }

    /// The next non-blank record, `Ok(None)` at end of input.
    pub(super) fn next_record(&mut self) -> Parsed<Option<RawRecord>> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            if content_end(&self.line) > 0 {
                let record = self.parse_record()?;
                self.width_hint = record.fields.len();
                return Ok(Some(record));
            }
        }
    }

    /// Reads the next physical line (with terminator) into `self.line`; false at end of input.
    fn read_line(&mut self) -> Parsed<bool> {
        self.line.clear();
        let line_no = self.line_no + 1;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(error(line_no, None, Problem::Io(e))),
            };
            if chunk.is_empty() {
                break;
            }
            let (take, done) = match memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            self.line.extend_from_slice(&chunk[..take]);
            self.input.consume(take);
            if self.line.len() > MAX_RECORD_BYTES {
                return Err(error(line_no, None, Problem::TooLong));
            }
            if done {
                break;
            }
        }
        if self.line.is_empty() {
            return Ok(false);
        }
        self.line_no = line_no;
        Ok(true)
    }

    fn parse_record(&mut self) -> Parsed<RawRecord> {
        let start = self.line_no;
        let mut fields = Vec::with_capacity(self.width_hint);
        let mut bad_utf8: Option<usize> = None;
        let mut pos = 0;
        loop {
            let column = fields.len();
            let (value, next) = if self.line.get(pos) == Some(&b'"') {
                self.quoted_field(pos + 1, start, column)?
            } else {
                self.unquoted_field(pos, start, column)?
            };
            match value {
                Some(value) => fields.push(value),
                None => {
                    bad_utf8.get_or_insert(column);
                    fields.push(String::new());
                }
            }
            match next {
                Some(next) => pos = next,
                None => break,
            }
        }
        match bad_utf8 {
            Some(column) => Err(error(start, Some(column), Problem::InvalidUtf8)),
            None => Ok(RawRecord {
                line: start,
                fields,
            }),
        }
    }

    /// An unquoted field from `pos`: its value (None if not UTF-8) and where the next field starts
    /// (None at the end of the record).
    fn unquoted_field(
        &self,
        pos: usize,
        start: u64,
        column: usize,
    ) -> Parsed<(Option<String>, Option<usize>)> {
        let end = content_end(&self.line);
        let rest = &self.line[pos.min(end)..end];
        match memchr3(self.delimiter, b'"', b'\r', rest) {
            None => Ok((to_string(rest), None)),
            Some(i) if rest[i] == self.delimiter => Ok((to_string(&rest[..i]), Some(pos + i + 1))),
            Some(i) if rest[i] == b'"' => Err(error(start, Some(column), Problem::QuoteInUnquoted)),
            Some(_) => Err(error(start, Some(column), Problem::BareCarriageReturn)),
        }
    }

    /// A quoted field whose content starts at `pos`; may read further lines.
    fn quoted_field(
        &mut self,
        mut pos: usize,
        start: u64,
        column: usize,
    ) -> Parsed<(Option<String>, Option<usize>)> {
        let quote_line = self.line_no;
        self.quoted.clear();
        loop {
            match memchr(b'"', &self.line[pos..]) {
                Some(i) => {
                    let q = pos + i;
                    self.quoted.extend_from_slice(&self.line[pos..q]);
                    if self.line.get(q + 1) == Some(&b'"') {
                        self.quoted.push(b'"');
                        pos = q + 2;
                    } else {
                        pos = q + 1;
                        break;
                    }
                }
                None => {
                    self.quoted.extend_from_slice(&self.line[pos..]);
                    self.continue_quoted(start, column, quote_line)?;
                    pos = 0;
                }
            }
        }
        let value = to_string(&self.quoted);
        let end = content_end(&self.line);
        if pos == end {
            Ok((value, None))
        } else if self.line[pos] == self.delimiter {
            Ok((value, Some(pos + 1)))
        } else {
            Err(error(start, Some(column), Problem::AfterClosingQuote))
        }
    }

    /// Reads the next line into a quoted field that spans lines.
    fn continue_quoted(&mut self, start: u64, column: usize, quote_line: u64) -> Parsed<()> {
        if self.quoted.len() > MAX_RECORD_BYTES {
            return Err(error(start, Some(column), Problem::TooLong));
        }
        match self.read_line() {
            Ok(true) => Ok(()),
            Ok(false) => Err(error(
                start,
                Some(column),
                Problem::Unterminated { quote_line },
            )),
            Err(e) => Err(ParseError {
                line: start,
                column: Some(column),
                problem: e.problem,
            }),
        }
    }
}

fn error(line: u64, column: Option<usize>, problem: Problem) -> ParseError {
    ParseError {
        line,
        column,
        problem,
    }
}

/// Length of the line without its terminator (LF, CRLF, or a lone CR at end of input).
fn content_end(line: &[u8]) -> usize {
    match line {
        [rest @ .., b'\r', b'\n'] | [rest @ .., b'\n'] | [rest @ .., b'\r'] => rest.len(),
        _ => line.len(),
    }
}

fn to_string(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse_all(input: &str) -> Vec<Result<(u64, Vec<String>), String>> {
        let mut parser = Parser::new(input.as_bytes(), b',');
        let mut out = Vec::new();
        loop {
            match parser.next_record() {
                Ok(None) => return out,
                Ok(Some(r)) => out.push(Ok((r.line, r.fields))),
                Err(e) => {
                    let fatal = e.problem.is_fatal();
                    out.push(Err(format!("{}:{:?}:{:?}", e.line, e.column, e.problem)));
                    if fatal {
                        return out;
                    }
                }
            }
        }
    }

    fn ok(line: u64, fields: &[&str]) -> Result<(u64, Vec<String>), String> {
        Ok((line, fields.iter().map(|s| s.to_string()).collect()))
    }

    #[test]
    fn terminators_are_never_part_of_values() {
        let got = parse_all("a,b\r\nc,d\ne,f\r");
        assert_eq!(
            got,
            vec![ok(1, &["a", "b"]), ok(2, &["c", "d"]), ok(3, &["e", "f"])]
        );
    }

    #[test]
    fn quoted_fields_keep_delimiters_quotes_and_line_breaks() {
        let got = parse_all("\"a,1\",\"say \"\"hi\"\"\",\"x\r\ny\ncr\rz\"\r\nnext,,\r\n");
        assert_eq!(
            got,
            vec![
                ok(1, &["a,1", "say \"hi\"", "x\r\ny\ncr\rz"]),
                ok(4, &["next", "", ""])
            ]
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_counted() {
        let got = parse_all("a\r\n\r\n\nb\n");
        assert_eq!(got, vec![ok(1, &["a"]), ok(4, &["b"])]);
    }

    #[test]
    fn bad_quotes_reject_the_row_and_reading_continues() {
        let got = parse_all("a\"b,c\n\"x\"y,z\nok,1\n");
        assert_eq!(got.len(), 3);
        assert!(
            got[0]
                .as_ref()
                .unwrap_err()
                .starts_with("1:Some(0):QuoteInUnquoted")
        );
        assert!(
            got[1]
                .as_ref()
                .unwrap_err()
                .starts_with("2:Some(0):AfterClosingQuote")
        );
        assert_eq!(got[2], ok(3, &["ok", "1"]));
    }

    #[test]
    fn unterminated_quote_is_fatal_with_the_starting_line() {
        let got = parse_all("h\n1\n2,\"open\nmore\n");
        assert_eq!(got[0], ok(1, &["h"]));
        assert_eq!(got[1], ok(2, &["1"]));
        let err = got[2].as_ref().unwrap_err();
        assert!(err.contains("Unterminated { quote_line: 3 }"), "{err}");
    }

    #[test]
    fn invalid_utf8_names_the_column_and_keeps_record_boundaries() {
        let mut parser = Parser::new(&b"a,\"b\xFF\nc\",d\nx,y,z\n"[..], b',');
        let err = parser.next_record().unwrap_err();
        assert_eq!((err.line, err.column), (1, Some(1)));
        let next = parser.next_record().unwrap().unwrap();
        assert_eq!((next.line, next.fields.len()), (3, 3));
    }
}
