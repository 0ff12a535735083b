//! The RFC 4514 parser. Lenient where directories are (spaces around `,` `+` `=` and the
//! older `;` separator of RFC 2253 callers are not accepted: `;` must be escaped), strict
//! where it matters: every escape is decoded exactly once, a `#` value must be hex, and the
//! decoded value must be UTF-8.

use crate::dn::{Ava, AvaValue, Rdn};
use crate::error::DnError;

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

pub(crate) fn parse_dn(text: &str) -> Result<Vec<Rdn>, DnError> {
    let mut p = Parser {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let mut rdns = Vec::new();
    p.skip_spaces();
    if p.at_end() {
        return Ok(rdns);
    }
    loop {
        let mut avas = vec![p.ava()?];
        let mut more = false;
        loop {
            match p.peek() {
                Some(b'+') => {
                    p.pos += 1;
                    avas.push(p.ava()?);
                }
                Some(b',') => {
                    p.pos += 1;
                    more = true;
                    break;
                }
                None => break,
                Some(_) => return Err(p.error("expected ',' or '+' after a value")),
            }
        }
        rdns.push(Rdn::from_avas(avas)?);
        if !more {
            return Ok(rdns);
        }
    }
}

impl Parser<'_> {
    fn error(&self, message: &'static str) -> DnError {
        DnError::Syntax {
            position: self.pos,
            message,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn ava(&mut self) -> Result<Ava, DnError> {
        self.skip_spaces();
        let start = self.pos;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            self.pos += 1;
        }
        let attribute = std::str::from_utf8(&self.bytes[start..self.pos])
            .map_err(|_| self.error("attribute type is not ASCII"))?
            .to_owned();
        if attribute.is_empty() {
            return Err(self.error("expected an attribute type"));
        }
        self.skip_spaces();
        if self.peek() != Some(b'=') {
            return Err(self.error("expected '=' after the attribute type"));
        }
        self.pos += 1;
        self.skip_spaces();
        let value = if self.peek() == Some(b'#') {
            self.pos += 1;
            AvaValue::Ber(self.hex_string()?)
        } else {
            AvaValue::Text(self.string_value()?)
        };
        Ava::with_value(&attribute, value)
    }

    fn hex_string(&mut self) -> Result<Vec<u8>, DnError> {
        let mut out = Vec::new();
        while let Some(b) = self.peek().filter(u8::is_ascii_hexdigit) {
            let lo = self
                .bytes
                .get(self.pos + 1)
                .copied()
                .filter(u8::is_ascii_hexdigit)
                .ok_or_else(|| self.error("a '#' value needs pairs of hex digits"))?;
            out.push(hex(b) << 4 | hex(lo));
            self.pos += 2;
        }
        if out.is_empty() {
            return Err(self.error("a '#' value needs pairs of hex digits"));
        }
        self.skip_spaces();
        Ok(out)
    }

    fn string_value(&mut self) -> Result<String, DnError> {
        let mut out: Vec<u8> = Vec::new();
        // Length of `out` up to the last escaped or non-space byte: unescaped trailing spaces
        // are insignificant and dropped.
        let mut keep = 0;
        while let Some(b) = self.peek() {
            match b {
                b',' | b'+' => break,
                b'\\' => {
                    self.pos += 1;
                    out.push(self.escaped()?);
                    keep = out.len();
                }
                b'"' | b'<' | b'>' | b';' | b'=' | 0 => {
                    return Err(self.error("this character must be escaped in a DN value"));
                }
                b' ' => {
                    out.push(b);
                    self.pos += 1;
                }
                _ => {
                    out.push(b);
                    self.pos += 1;
                    keep = out.len();
                }
            }
        }
        out.truncate(keep);
        String::from_utf8(out).map_err(|_| self.error("the value is not valid UTF-8"))
    }

    fn escaped(&mut self) -> Result<u8, DnError> {
        let b = self
            .peek()
            .ok_or_else(|| self.error("a '\\' ends the DN"))?;
        if b.is_ascii_hexdigit() {
            let lo = self
                .bytes
                .get(self.pos + 1)
                .copied()
                .filter(u8::is_ascii_hexdigit)
                .ok_or_else(|| {
                    self.error("'\\' must be followed by two hex digits or a special character")
                })?;
            self.pos += 2;
            return Ok(hex(b) << 4 | hex(lo));
        }
        if matches!(
            b,
            b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';' | b'=' | b' ' | b'#'
        ) {
            self.pos += 1;
            return Ok(b);
        }
        Err(self.error("'\\' must be followed by two hex digits or a special character"))
    }
}

fn hex(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}
