//! A terminating wasm-smith module, instantiated with dummy imports on the interpreter and
//! every export called with default arguments: traps are fine, panics are not.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(bytes) = kestrel_fuzzing::generate_module(&mut Unstructured::new(data)) {
        kestrel_fuzzing::execute(&bytes);
    }
});
