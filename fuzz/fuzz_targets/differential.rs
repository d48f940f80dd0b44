//! A terminating wasm-smith module run on the interpreter and the JIT in lockstep: results,
//! traps, exported globals, tables and memories must agree after every call.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bytes) = kestrel_fuzzing::generate_module(&mut Unstructured::new(data)) {
        if let Err(divergence) = kestrel_fuzzing::differential(&bytes) {
            panic!("{divergence}");
        }
    }
});
