//! Tests of the CSV file layer: the catalogue cases, reading details, writing and round trips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod read;
mod write;

use std::io::Read;

use super::{CsvFormat, CsvReader, CsvRecord, RowError};

/// Reader over in-memory bytes.
pub(super) fn reader(bytes: &[u8], format: &CsvFormat) -> Result<CsvReader, super::CsvError> {
    CsvReader::from_reader(
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        "test.csv",
        format,
    )
}

/// Every result until the reader stops.
pub(super) fn drain(reader: &mut CsvReader) -> Vec<Result<CsvRecord, RowError>> {
    std::iter::from_fn(|| reader.next_record()).collect()
}

#[test]
fn reader_is_send_and_records_do_not_debug_values() {
    fn assert_send<T: Send>() {}
    assert_send::<CsvReader>();
    let record = CsvRecord {
        line: 2,
        fields: vec!["jdoe".into(), "Tr1cky,Pa$$".into()],
    };
    assert_eq!(
        format!("{record:?}"),
        "CsvRecord { line: 2, fields: <2 values redacted> }"
    );
}

/// A source that hands out one byte per read call, to exercise buffer boundaries.
pub(super) struct Trickle(pub(super) Vec<u8>, pub(super) usize);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.get(self.1), buf.first_mut()) {
            (Some(b), Some(slot)) => {
                *slot = *b;
                self.1 += 1;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}
