//! Any bytes (raw, behind a Wasm header, or a mutated wasm-smith module) through module
//! validation and compilation on both engines: errors are fine, panics are not.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kestrel_fuzzing::validate(data);
    if let Ok(bytes) = kestrel_fuzzing::validate_input(&mut Unstructured::new(data)) {
        kestrel_fuzzing::validate(&bytes);
    }
});
