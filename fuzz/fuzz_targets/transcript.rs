//! Arbitrary text as a transcript in every format.
#![no_main]

use callguard::transcript::{parse, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for format in [Format::Json, Format::Text, Format::Vtt, Format::Srt] {
        let _ = parse(text, format);
    }
});
