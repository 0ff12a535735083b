//! The hub's and the relay's decoder of network frames: any bytes, no panic, and whatever
//! decodes re-encodes to a frame that decodes to the same value.
#![no_main]

use identitymesh_protocol::Frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(frame) = Frame::decode(text) {
        let again = Frame::decode(&frame.encode());
        assert_eq!(again.as_ref(), Ok(&frame));
    }
});
