//! Every SIMD and relaxed-SIMD instruction compiled twice, for this host's ISA and for the
//! baseline of its architecture (on x86-64: SSE2 only, no SSSE3, SSE4.1 or AVX, so
//! Cranelift's fallback sequences and libcalls run), and run on the same inputs: both must
//! compile every function (no stub) and agree on every result. The host-ISA results are
//! checked against the spec suites; this extends them to hosts without the extensions.
//! NaN lanes of float results only need to be NaN in both (Wasm leaves NaN payloads open).

use crate::compiler;
use kestrel_parser::{Features, ValType};
use kestrel_vm::{
    FuncId, InstanceId, MemoryConfig, RuntimeModule, StackLimits, StoreOpaque, Trap, TypeRegistry,
    instantiate,
};
use std::any::Any;
use std::sync::Arc;

const UNARY: &[&str] = &[
    "v128.not",
    "i8x16.abs",
    "i8x16.neg",
    "i8x16.popcnt",
    "i16x8.abs",
    "i16x8.neg",
    "i32x4.abs",
    "i32x4.neg",
    "i64x2.abs",
    "i64x2.neg",
    "i16x8.extadd_pairwise_i8x16_s",
    "i16x8.extadd_pairwise_i8x16_u",
    "i32x4.extadd_pairwise_i16x8_s",
    "i32x4.extadd_pairwise_i16x8_u",
    "i16x8.extend_low_i8x16_s",
    "i16x8.extend_high_i8x16_s",
    "i16x8.extend_low_i8x16_u",
    "i16x8.extend_high_i8x16_u",
    "i32x4.extend_low_i16x8_s",
    "i32x4.extend_high_i16x8_s",
    "i32x4.extend_low_i16x8_u",
    "i32x4.extend_high_i16x8_u",
    "i64x2.extend_low_i32x4_s",
    "i64x2.extend_high_i32x4_s",
    "i64x2.extend_low_i32x4_u",
    "i64x2.extend_high_i32x4_u",
    "f32x4.ceil",
    "f32x4.floor",
    "f32x4.trunc",
    "f32x4.nearest",
    "f32x4.abs",
    "f32x4.neg",
    "f32x4.sqrt",
    "f64x2.ceil",
    "f64x2.floor",
    "f64x2.trunc",
    "f64x2.nearest",
    "f64x2.abs",
    "f64x2.neg",
    "f64x2.sqrt",
    "i32x4.trunc_sat_f32x4_s",
    "i32x4.trunc_sat_f32x4_u",
    "f32x4.convert_i32x4_s",
    "f32x4.convert_i32x4_u",
    "i32x4.trunc_sat_f64x2_s_zero",
    "i32x4.trunc_sat_f64x2_u_zero",
    "f64x2.convert_low_i32x4_s",
    "f64x2.convert_low_i32x4_u",
    "f32x4.demote_f64x2_zero",
    "f64x2.promote_low_f32x4",
    "i32x4.relaxed_trunc_f32x4_s",
    "i32x4.relaxed_trunc_f32x4_u",
    "i32x4.relaxed_trunc_f64x2_s_zero",
    "i32x4.relaxed_trunc_f64x2_u_zero",
];

const BINARY: &[&str] = &[
    "v128.and",
    "v128.andnot",
    "v128.or",
    "v128.xor",
    "i8x16.eq",
    "i8x16.ne",
    "i8x16.lt_s",
    "i8x16.lt_u",
    "i8x16.gt_s",
    "i8x16.gt_u",
    "i8x16.le_s",
    "i8x16.le_u",
    "i8x16.ge_s",
    "i8x16.ge_u",
    "i16x8.eq",
    "i16x8.ne",
    "i16x8.lt_s",
    "i16x8.lt_u",
    "i16x8.gt_s",
    "i16x8.gt_u",
    "i16x8.le_s",
    "i16x8.le_u",
    "i16x8.ge_s",
    "i16x8.ge_u",
    "i32x4.eq",
    "i32x4.ne",
    "i32x4.lt_s",
    "i32x4.lt_u",
    "i32x4.gt_s",
    "i32x4.gt_u",
    "i32x4.le_s",
    "i32x4.le_u",
    "i32x4.ge_s",
    "i32x4.ge_u",
    "i64x2.eq",
    "i64x2.ne",
    "i64x2.lt_s",
    "i64x2.gt_s",
    "i64x2.le_s",
    "i64x2.ge_s",
    "f32x4.eq",
    "f32x4.ne",
    "f32x4.lt",
    "f32x4.gt",
    "f32x4.le",
    "f32x4.ge",
    "f64x2.eq",
    "f64x2.ne",
    "f64x2.lt",
    "f64x2.gt",
    "f64x2.le",
    "f64x2.ge",
    "i8x16.narrow_i16x8_s",
    "i8x16.narrow_i16x8_u",
    "i16x8.narrow_i32x4_s",
    "i16x8.narrow_i32x4_u",
    "i8x16.add",
    "i8x16.add_sat_s",
    "i8x16.add_sat_u",
    "i8x16.sub",
    "i8x16.sub_sat_s",
    "i8x16.sub_sat_u",
    "i8x16.min_s",
    "i8x16.min_u",
    "i8x16.max_s",
    "i8x16.max_u",
    "i8x16.avgr_u",
    "i16x8.add",
    "i16x8.add_sat_s",
    "i16x8.add_sat_u",
    "i16x8.sub",
    "i16x8.sub_sat_s",
    "i16x8.sub_sat_u",
    "i16x8.mul",
    "i16x8.min_s",
    "i16x8.min_u",
    "i16x8.max_s",
    "i16x8.max_u",
    "i16x8.avgr_u",
    "i16x8.q15mulr_sat_s",
    "i16x8.extmul_low_i8x16_s",
    "i16x8.extmul_high_i8x16_s",
    "i16x8.extmul_low_i8x16_u",
    "i16x8.extmul_high_i8x16_u",
    "i32x4.add",
    "i32x4.sub",
    "i32x4.mul",
    "i32x4.min_s",
    "i32x4.min_u",
    "i32x4.max_s",
    "i32x4.max_u",
    "i32x4.dot_i16x8_s",
    "i32x4.extmul_low_i16x8_s",
    "i32x4.extmul_high_i16x8_s",
    "i32x4.extmul_low_i16x8_u",
    "i32x4.extmul_high_i16x8_u",
    "i64x2.add",
    "i64x2.sub",
    "i64x2.mul",
    "i64x2.extmul_low_i32x4_s",
    "i64x2.extmul_high_i32x4_s",
    "i64x2.extmul_low_i32x4_u",
    "i64x2.extmul_high_i32x4_u",
    "f32x4.add",
    "f32x4.sub",
    "f32x4.mul",
    "f32x4.div",
    "f32x4.min",
    "f32x4.max",
    "f32x4.pmin",
    "f32x4.pmax",
    "f64x2.add",
    "f64x2.sub",
    "f64x2.mul",
    "f64x2.div",
    "f64x2.min",
    "f64x2.max",
    "f64x2.pmin",
    "f64x2.pmax",
    "i8x16.swizzle",
    "i8x16.relaxed_swizzle",
    "f32x4.relaxed_min",
    "f32x4.relaxed_max",
    "f64x2.relaxed_min",
    "f64x2.relaxed_max",
    "i16x8.relaxed_q15mulr_s",
    "i16x8.relaxed_dot_i8x16_i7x16_s",
];

const TERNARY: &[&str] = &[
    "v128.bitselect",
    "i8x16.relaxed_laneselect",
    "i16x8.relaxed_laneselect",
    "i32x4.relaxed_laneselect",
    "i64x2.relaxed_laneselect",
    "f32x4.relaxed_madd",
    "f32x4.relaxed_nmadd",
    "f64x2.relaxed_madd",
    "f64x2.relaxed_nmadd",
    "i32x4.relaxed_dot_i8x16_i7x16_add_s",
];

const SHIFTS: &[&str] = &[
    "i8x16.shl",
    "i8x16.shr_s",
    "i8x16.shr_u",
    "i16x8.shl",
    "i16x8.shr_s",
    "i16x8.shr_u",
    "i32x4.shl",
    "i32x4.shr_s",
    "i32x4.shr_u",
    "i64x2.shl",
    "i64x2.shr_s",
    "i64x2.shr_u",
];

const TESTS: &[&str] = &[
    "v128.any_true",
    "i8x16.all_true",
    "i16x8.all_true",
    "i32x4.all_true",
    "i64x2.all_true",
    "i8x16.bitmask",
    "i16x8.bitmask",
    "i32x4.bitmask",
    "i64x2.bitmask",
];

/// `(shape, scalar type, lanes)` of the splats and lane accesses.
const SHAPES: &[(&str, &str, u8)] = &[
    ("i8x16", "i32", 16),
    ("i16x8", "i32", 8),
    ("i32x4", "i32", 4),
    ("i64x2", "i64", 2),
    ("f32x4", "f32", 4),
    ("f64x2", "f64", 2),
];

const LOADS: &[&str] = &[
    "v128.load",
    "v128.load8x8_s",
    "v128.load8x8_u",
    "v128.load16x4_s",
    "v128.load16x4_u",
    "v128.load32x2_s",
    "v128.load32x2_u",
    "v128.load8_splat",
    "v128.load16_splat",
    "v128.load32_splat",
    "v128.load64_splat",
    "v128.load32_zero",
    "v128.load64_zero",
];

/// A module with one exported function per instruction (named after it, with a suffix for
/// each lane or variant).
fn module_text() -> String {
    let mut text = String::from("(module (memory 1)\n");
    text.push_str("(data (i32.const 0) \"");
    for i in 0..256u32 {
        let byte = (i.wrapping_mul(0x9e) ^ (i >> 3).wrapping_mul(0x35)) as u8;
        text.push_str(&format!("\\{byte:02x}"));
    }
    text.push_str("\")\n");
    let mut func = |name: &str, params: &str, result: &str, body: &str| {
        text.push_str(&format!(
            "(func (export \"{name}\") (param {params}) {result} {body})\n"
        ));
    };
    for op in UNARY {
        func(
            op,
            "v128",
            "(result v128)",
            &format!("({op} (local.get 0))"),
        );
    }
    for op in BINARY {
        let body = format!("({op} (local.get 0) (local.get 1))");
        func(op, "v128 v128", "(result v128)", &body);
    }
    for op in TERNARY {
        let body = format!("({op} (local.get 0) (local.get 1) (local.get 2))");
        func(op, "v128 v128 v128", "(result v128)", &body);
    }
    for op in SHIFTS {
        let body = format!("({op} (local.get 0) (local.get 1))");
        func(op, "v128 i32", "(result v128)", &body);
    }
    for op in TESTS {
        func(op, "v128", "(result i32)", &format!("({op} (local.get 0))"));
    }
    for (shape, scalar, lanes) in SHAPES {
        let splat = format!("{shape}.splat");
        func(
            &splat,
            scalar,
            "(result v128)",
            &format!("({splat} (local.get 0))"),
        );
        let signs: &[&str] = if scalar == &"i32" && *lanes > 4 {
            &["_s", "_u"]
        } else {
            &[""]
        };
        let mut chosen = vec![0, lanes / 2, lanes - 1];
        chosen.dedup();
        for lane in chosen {
            for sign in signs {
                let op = format!("{shape}.extract_lane{sign}");
                let body = format!("({op} {lane} (local.get 0))");
                func(
                    &format!("{op} {lane}"),
                    "v128",
                    &format!("(result {scalar})"),
                    &body,
                );
            }
            let op = format!("{shape}.replace_lane");
            let body = format!("({op} {lane} (local.get 0) (local.get 1))");
            let params = format!("v128 {scalar}");
            func(&format!("{op} {lane}"), &params, "(result v128)", &body);
        }
    }
    for (index, lanes) in [
        "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15",
        "31 30 29 28 27 26 25 24 23 22 21 20 19 18 17 16",
        "0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23",
        "3 3 3 3 19 19 19 19 8 9 10 11 28 29 30 31",
        "0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23",
        "5 0 31 7 9 16 2 2 14 27 1 30 12 3 18 6",
    ]
    .iter()
    .enumerate()
    {
        let body = format!("(i8x16.shuffle {lanes} (local.get 0) (local.get 1))");
        func(
            &format!("i8x16.shuffle {index}"),
            "v128 v128",
            "(result v128)",
            &body,
        );
    }
    for op in LOADS {
        // Addresses are taken modulo 128 (the data covers 256 bytes).
        let body = format!("({op} offset=3 (i32.and (local.get 0) (i32.const 127)))");
        func(op, "i32", "(result v128)", &body);
    }
    for (size, lanes) in [(8, 16u8), (16, 8), (32, 4), (64, 2)] {
        for lane in [0, lanes - 1] {
            let load = format!("v128.load{size}_lane");
            let body = format!(
                "({load} offset=1 {lane} (i32.and (local.get 0) (i32.const 127)) (local.get 1))"
            );
            func(
                &format!("{load} {lane}"),
                "i32 v128",
                "(result v128)",
                &body,
            );
            let store = format!("v128.store{size}_lane");
            let body = format!(
                "({store} offset=2 {lane} (i32.and (local.get 0) (i32.const 127)) (local.get 1))
                 (v128.load (i32.and (local.get 0) (i32.const 127)))"
            );
            func(
                &format!("{store} {lane}"),
                "i32 v128",
                "(result v128)",
                &body,
            );
        }
    }
    func(
        "v128.store",
        "i32 v128",
        "(result v128)",
        "(v128.store offset=5 (i32.and (local.get 0) (i32.const 127)) (local.get 1))
         (v128.load offset=4 (i32.and (local.get 0) (i32.const 127)))",
    );
    text.push(')');
    text
}

/// xorshift64*: a fixed sequence, so failures reproduce.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn f32(&mut self) -> u32 {
        const SPECIAL: &[f32] = &[
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            3.5,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            1e-45,
            2147483648.0,
            2147483520.0,
            -2147483648.0,
            -2147483904.0,
            4294967296.0,
            4294967040.0,
            8388607.5,
            16777216.0,
            -0.75,
        ];
        match self.below(4) {
            0 => self.next() as u32,
            1 => [0x7fc0_0000, 0xffc0_0000, 0x7f80_0001, 0x7fa0_1234][self.below(4)],
            2 => ((self.next() % 20_000) as f32 / 16.0 - 600.0).to_bits(),
            _ => SPECIAL[self.below(SPECIAL.len())].to_bits(),
        }
    }

    fn f64(&mut self) -> u64 {
        const SPECIAL: &[f64] = &[
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            2.5,
            -2.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            2147483647.0,
            2147483647.5,
            2147483648.0,
            -2147483648.0,
            -2147483648.5,
            -2147483649.0,
            4294967295.0,
            4294967295.5,
            4294967296.0,
            4503599627370495.5,
            1e300,
            3.4028235677973366e38,
            1.401298464324817e-45,
        ];
        match self.below(4) {
            0 => self.next(),
            1 => [
                0x7ff8_0000_0000_0000,
                0xfff8_0000_0000_0000,
                0x7ff0_0000_0000_0001,
            ][self.below(3)],
            2 => ((self.next() % 2_000_000) as f64 / 64.0 - 15_000.0).to_bits(),
            _ => SPECIAL[self.below(SPECIAL.len())].to_bits(),
        }
    }

    /// A vector whose lanes, read with some lane type, often hold edge values.
    fn v128(&mut self) -> u128 {
        let mut bytes = [0u8; 16];
        match self.below(6) {
            0 => return u128::from(self.next()) | u128::from(self.next()) << 64,
            1 => {
                for lane in bytes.chunks_mut(4) {
                    lane.copy_from_slice(&self.f32().to_le_bytes());
                }
            }
            2 => {
                for lane in bytes.chunks_mut(8) {
                    lane.copy_from_slice(&self.f64().to_le_bytes());
                }
            }
            3 => {
                for byte in &mut bytes {
                    *byte = [0, 1, 2, 0x7f, 0x80, 0x81, 0xfe, 0xff, 15, 16, 0x70][self.below(11)];
                }
            }
            4 => {
                for lane in bytes.chunks_mut(2) {
                    let value: u16 = [0, 1, 0x7fff, 0x8000, 0xffff, 0x4000, 0xc000][self.below(7)];
                    lane.copy_from_slice(&value.to_le_bytes());
                }
            }
            _ => {
                for lane in bytes.chunks_mut(4) {
                    let value: u32 =
                        [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x0001_0000][self.below(6)];
                    lane.copy_from_slice(&value.to_le_bytes());
                }
            }
        }
        u128::from_le_bytes(bytes)
    }

    /// Raw slots for a value of `ty`.
    fn value(&mut self, ty: ValType, slots: &mut Vec<u64>) {
        match ty {
            ValType::V128 => slots.extend(kestrel_vm::value::v128_to_slots(self.v128())),
            ValType::I32 => {
                let value = match self.below(3) {
                    0 => self.next() as u32,
                    1 => self.below(300) as u32,
                    _ => [0, 1, 7, 8, 15, 16, 31, 32, 63, 64, 0x7f, 0x80, u32::MAX][self.below(13)],
                };
                slots.push(u64::from(value));
            }
            ValType::I64 => slots.push(self.next()),
            ValType::F32 => slots.push(u64::from(self.f32())),
            ValType::F64 => slots.push(self.f64()),
            ValType::Ref(_) => slots.push(0),
        }
    }
}

fn no_other_tier(
    _: &mut StoreOpaque,
    _: &mut dyn Any,
    _: FuncId,
    _: &mut [u64],
) -> Result<(), Trap> {
    Err(Trap::host(
        "every function is compiled in these tests".into(),
    ))
}

/// Whether `a` and `b`, results of instruction `name`, agree: equal bits, except that NaN
/// lanes of a float vector only need to be NaN in both.
fn agree(name: &str, result: &ValType, a: &[u64], b: &[u64]) -> bool {
    if a == b {
        return true;
    }
    if *result != ValType::V128 {
        return false;
    }
    let bits = |slots: &[u64]| kestrel_vm::value::v128_from_slots(slots[0], slots[1]);
    let (a, b) = (bits(a), bits(b));
    if name.starts_with("f32x4.") {
        (0..4).all(|lane| {
            let (x, y) = ((a >> (32 * lane)) as u32, (b >> (32 * lane)) as u32);
            x == y || (f32::from_bits(x).is_nan() && f32::from_bits(y).is_nan())
        })
    } else if name.starts_with("f64x2.") {
        (0..2).all(|lane| {
            let (x, y) = ((a >> (64 * lane)) as u64, (b >> (64 * lane)) as u64);
            x == y || (f64::from_bits(x).is_nan() && f64::from_bits(y).is_nan())
        })
    } else {
        false
    }
}

#[test]
fn every_simd_instruction_gives_the_same_results_on_the_baseline_isa() {
    if !crate::is_supported() {
        return;
    }
    let host = compiler::isa().unwrap();
    if crate::host::vector_support(&**host).is_err() {
        // A RISC-V host without V: the refusal has its own test.
        return;
    }
    let baseline = compiler::make_isa(true).unwrap();
    let bytes = wat::parse_str(module_text()).unwrap();
    let info = Arc::new(kestrel_parser::parse(bytes, &Features::wasm3()).unwrap());
    let registry = Arc::new(TypeRegistry::default());
    let mut store = StoreOpaque::new(
        registry.clone(),
        MemoryConfig::default(),
        StackLimits::default(),
    );
    let host_module = Arc::new(RuntimeModule::new(info.clone(), &registry));
    let baseline_module = Arc::new(RuntimeModule::new(info.clone(), &registry));
    crate::compile(&host_module).unwrap();
    compiler::compile_module_with(&baseline_module, &baseline).unwrap();
    let mut instances: Vec<InstanceId> = Vec::new();
    for module in [&host_module, &baseline_module] {
        for index in info.num_imported_functions..info.functions.len() as u32 {
            assert!(
                crate::is_function_compiled(module, index),
                "function {index} did not compile: {:?}",
                compiler::CompiledModule::containing(module, index)
                    .and_then(|compiled| compiled.error(&info, index))
            );
        }
        let instance = instantiate(&mut store, module, &[]).unwrap();
        crate::link_instance(&mut store, instance);
        instances.push(instance);
    }

    let mut random = Random(0x5eed_1234_abcd_0001);
    let mut checked = 0;
    for export in &info.exports {
        let name = export.name.as_str();
        let ty = info.function_type(export.index).clone();
        let result = ty.results()[0];
        let slots = kestrel_vm::value::slot_count(ty.params())
            .max(kestrel_vm::value::slot_count(ty.results()));
        for _ in 0..300 {
            let mut args = Vec::new();
            for param in ty.params() {
                random.value(*param, &mut args);
            }
            args.resize(slots, 0);
            let mut outcomes = Vec::new();
            for instance in &instances {
                let func = store.instance(*instance).funcs.get(export.index);
                let mut values = args.clone();
                crate::call(&mut store, &mut (), func, &mut values, no_other_tier)
                    .unwrap_or_else(|trap| panic!("{name}: {trap}"));
                values.truncate(kestrel_vm::value::slot_count(ty.results()));
                outcomes.push(values);
            }
            assert!(
                agree(name, &result, &outcomes[0], &outcomes[1]),
                "{name}{args:x?}: host ISA {:x?}, baseline ISA {:x?}",
                outcomes[0],
                outcomes[1]
            );
            checked += 1;
        }
    }
    assert!(checked > 200 * 300, "only {checked} calls");
}

/// Compiles `wat` whole; on a host without vector support (RISC-V without V) the module
/// must be refused with the message saying why, never compiled with stubs.
fn compile_or_refusal(wat: &str) -> Result<Arc<RuntimeModule>, String> {
    let info =
        Arc::new(kestrel_parser::parse(wat::parse_str(wat).unwrap(), &Features::wasm3()).unwrap());
    let module = Arc::new(RuntimeModule::new(info, &TypeRegistry::default()));
    crate::compile(&module).map(|()| module)
}

#[test]
fn simd_modules_compile_whole_or_are_refused_with_a_clear_message() {
    if !crate::is_supported() {
        return;
    }
    let vectors = crate::host::vector_support(&**compiler::isa().unwrap());
    if !cfg!(target_arch = "riscv64") {
        assert_eq!(
            vectors,
            Ok(()),
            "x86-64 and AArch64 always have 128-bit vectors"
        );
    }
    // `v128` in a signature, and SIMD inside a function whose type has none.
    for wat in [
        "(module (func (export \"f\") (param v128) (result v128) (local.get 0)))",
        "(module (func (export \"f\") (param i32) (result i32)
           (i32x4.extract_lane 0 (i32x4.splat (local.get 0))))
         (func (export \"g\") (result i32) (i32.const 7)))",
    ] {
        match (compile_or_refusal(wat), &vectors) {
            (Ok(module), Ok(())) => {
                let info = &module.info;
                for index in 0..info.functions.len() as u32 {
                    assert!(
                        crate::is_function_compiled(&module, index),
                        "{wat}: {index}"
                    );
                }
            }
            (Err(message), Err(_)) => {
                assert!(message.contains(crate::host::NO_VECTORS), "{message}");
            }
            (Ok(_), Err(_)) => panic!("{wat} compiled without vector support"),
            (Err(message), Ok(())) => panic!("{wat} was refused: {message}"),
        }
    }
    // Function by function (tiered), only the function that uses SIMD is refused.
    let info = Arc::new(
        kestrel_parser::parse(
            wat::parse_str(
                "(module (func (param i32) (result i32)
                   (i32x4.extract_lane 1 (i32x4.splat (local.get 0))))
                 (func (result i32) (i32.const 7)))",
            )
            .unwrap(),
            &Features::wasm3(),
        )
        .unwrap(),
    );
    let module = RuntimeModule::new(info, &TypeRegistry::default());
    assert_eq!(crate::compile_function(&module, 1), Ok(()));
    match (crate::compile_function(&module, 0), &vectors) {
        (Ok(()), Ok(())) => {}
        (Err(message), Err(_)) => assert!(message.contains(crate::host::NO_VECTORS), "{message}"),
        (result, _) => panic!("function 0: {result:?} with vector support {vectors:?}"),
    }
}
