//! Prints the interpreter code of every function of a `.wat` or `.wasm` file:
//! `cargo run --release -p kestrel-interp --example dump_ir -- FILE`.

use kestrel_parser::Features;
fn main() {
    let path = std::env::args().nth(1).expect("valid module");
    let bytes = wat::parse_file(&path).expect("readable module");
    let info = kestrel_parser::parse(bytes, &Features::default()).expect("valid module");
    for index in info.num_imported_functions..info.functions.len() as u32 {
        let func = kestrel_interp::translate::translate(&info, index, Default::default())
            .expect("valid module");
        println!(
            "func {index}: locals {} frame {} constants {:?}",
            func.num_locals, func.frame_size, func.constants
        );
        for (pc, op) in func.code.iter().enumerate() {
            println!("  {pc:3}: {op:?}");
        }
    }
}
