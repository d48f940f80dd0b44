//! End-to-end checks of SIMD in the interpreter that the spec suites leave thin: the
//! relaxed truncations (whose 3.0 script in the shared corpus has no assertions), results
//! retargeted into `v128` locals, operands passed in consecutive slots (ternaries,
//! shuffles, lane accesses) when they start out in locals, and the bounds of 16-byte and
//! lane accesses at the end of memory. Expected values are worked out by hand.

use kestrel_parser::Features;
use kestrel_vm::value::{v128_from_slots, v128_to_slots};
use kestrel_vm::{
    MemoryConfig, RuntimeModule, StackLimits, StoreOpaque, Trap, TrapCode, TypeRegistry,
    instantiate,
};
use std::sync::Arc;

/// A value in the raw slot encoding: a scalar, or a `v128` in two slots.
#[derive(Debug, Clone, Copy, PartialEq)]
enum V {
    S(u64),
    V(u128),
}

struct Instance {
    store: StoreOpaque,
    info: Arc<kestrel_parser::ModuleInfo>,
    instance: kestrel_vm::InstanceId,
}

impl Instance {
    fn new(wat: &str) -> Instance {
        let registry = Arc::new(TypeRegistry::default());
        let bytes = wat::parse_str(wat).unwrap();
        let info = Arc::new(kestrel_parser::parse(bytes, &Features::wasm3()).unwrap());
        let module = Arc::new(RuntimeModule::new(info.clone(), &registry));
        let mut store = StoreOpaque::new(registry, MemoryConfig::default(), StackLimits::default());
        let instance = instantiate(&mut store, &module, &[]).unwrap();
        Instance {
            store,
            info,
            instance,
        }
    }

    /// Calls `export`; `results` gives the result shapes (`V::S(0)` or `V::V(0)`).
    fn call(&mut self, export: &str, args: &[V], results: &[V]) -> Result<Vec<V>, Trap> {
        let index = self.info.export(export).unwrap().index;
        let func = self.store.instance(self.instance).funcs.get(index);
        let mut values: Vec<u64> = args
            .iter()
            .flat_map(|arg| match arg {
                V::S(bits) => vec![*bits],
                V::V(bits) => v128_to_slots(*bits).to_vec(),
            })
            .collect();
        let result_slots: usize = results
            .iter()
            .map(|r| 1 + matches!(r, V::V(_)) as usize)
            .sum();
        values.resize(values.len().max(result_slots), 0);
        crate::call(&mut self.store, &mut (), func, &mut values)?;
        let mut slot = 0;
        Ok(results
            .iter()
            .map(|shape| match shape {
                V::S(_) => {
                    slot += 1;
                    V::S(values[slot - 1])
                }
                V::V(_) => {
                    slot += 2;
                    V::V(v128_from_slots(values[slot - 2], values[slot - 1]))
                }
            })
            .collect())
    }

    fn v(&mut self, export: &str, args: &[V]) -> u128 {
        match self.call(export, args, &[V::V(0)]).unwrap()[0] {
            V::V(bits) => bits,
            V::S(_) => unreachable!(),
        }
    }

    fn trap(&mut self, export: &str, args: &[V], results: &[V]) -> TrapCode {
        match self.call(export, args, results) {
            Err(trap) => trap.trap_code().expect("a trap with a code"),
            Ok(values) => panic!("{export} returned {values:x?} instead of trapping"),
        }
    }
}

fn f32x4(lanes: [f32; 4]) -> V {
    V::V(kestrel_vm::simd::from_lanes_f32(lanes))
}

fn f64x2(lanes: [f64; 2]) -> V {
    V::V(kestrel_vm::simd::from_lanes_f64(lanes))
}

fn i32x4(lanes: [i32; 4]) -> u128 {
    kestrel_vm::simd::from_lanes_i32(lanes)
}

#[test]
fn relaxed_truncations_saturate() {
    let mut instance = Instance::new(
        r#"(module
          (func (export "s") (param v128) (result v128) (i32x4.relaxed_trunc_f32x4_s (local.get 0)))
          (func (export "u") (param v128) (result v128) (i32x4.relaxed_trunc_f32x4_u (local.get 0)))
          (func (export "s_zero") (param v128) (result v128) (i32x4.relaxed_trunc_f64x2_s_zero (local.get 0)))
          (func (export "u_zero") (param v128) (result v128) (i32x4.relaxed_trunc_f64x2_u_zero (local.get 0))))"#,
    );
    let nan = f32::from_bits(0x7fc0_0000);
    // -2^31 fits; the next f32 below it, -2147483904, saturates; 2^31 - 128 is the largest
    // f32 that fits; 2^31 saturates.
    assert_eq!(
        instance.v(
            "s",
            &[f32x4([
                -2147483648.0,
                -2147483904.0,
                2147483520.0,
                2147483648.0
            ])]
        ),
        i32x4([i32::MIN, i32::MIN, 2147483520, i32::MAX])
    );
    assert_eq!(
        instance.v(
            "s",
            &[f32x4([nan, -nan, f32::from_bits(0x7fa0_0001), -1.9])]
        ),
        i32x4([0, 0, 0, -1])
    );
    assert_eq!(
        instance.v("u", &[f32x4([-1.0, 4294967040.0, 4294967296.0, nan])]),
        i32x4([0, -256, -1, 0])
    );
    assert_eq!(
        instance.v("s_zero", &[f64x2([-2147483649.0, 2147483647.5])]),
        i32x4([i32::MIN, i32::MAX, 0, 0])
    );
    assert_eq!(
        instance.v("s_zero", &[f64x2([f64::NAN, -2.5])]),
        i32x4([0, -2, 0, 0])
    );
    assert_eq!(
        instance.v("u_zero", &[f64x2([-0.9, 4294967296.0])]),
        i32x4([0, -1, 0, 0])
    );
    assert_eq!(
        instance.v("u_zero", &[f64x2([f64::NAN, 4294967295.9])]),
        i32x4([0, -1, 0, 0])
    );
}

#[test]
fn results_land_in_v128_locals_and_operands_come_from_them() {
    let mut instance = Instance::new(
        r#"(module
          ;; `local.set` retargets the add to write local 1, which it also reads.
          (func (export "accumulate") (param v128 v128) (result v128)
            (local.set 1 (i32x4.add (local.get 0) (local.get 1)))
            (local.set 1 (i32x4.add (local.get 0) (local.get 1)))
            (local.get 1))
          ;; Ternary operands copied from locals into consecutive slots, with a scalar
          ;; local between the vectors to shift them off two-slot alignment.
          (func (export "bitselect") (param v128 i32 v128 v128) (result v128)
            (v128.bitselect (local.get 0) (local.get 2) (local.get 3)))
          (func (export "madd") (param v128 v128 v128) (result v128)
            (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
          (func (export "dot_add") (param v128 v128 v128) (result v128)
            (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))
          (func (export "shuffle") (param v128 v128) (result v128)
            (local.set 0 (i8x16.shuffle 31 0 16 15 1 17 2 18 30 29 3 3 3 3 20 5
              (local.get 0) (local.get 1)))
            (local.get 0))
          (func (export "lane") (param v128 i64) (result v128 i64 v128)
            (i64x2.replace_lane 1 (local.get 0) (local.get 1))
            (i64x2.extract_lane 0 (local.get 0))
            (i64x2.splat (local.get 1))))"#,
    );
    let one_two = V::V(i32x4([1, 2, 3, 4]));
    let ten = V::V(i32x4([10, 20, 30, 40]));
    assert_eq!(
        instance.v("accumulate", &[one_two, ten]),
        i32x4([12, 24, 36, 48])
    );

    let a = 0x0123_4567_89ab_cdef_0011_2233_4455_6677u128;
    let b = 0xfedc_ba98_7654_3210_ffee_ddcc_bbaa_9988u128;
    let mask = 0xffff_0000_ffff_0000_0f0f_0f0f_0000_ffffu128;
    assert_eq!(
        instance.v("bitselect", &[V::V(a), V::S(7), V::V(b), V::V(mask)]),
        0x0123_ba98_89ab_3210_f0e1_d2c3_bbaa_6677
    );

    // Unfused: (1 + 2^-23)(1 - 2^-23) rounds to 1, so adding -1 gives 0 (fused: -2^-46).
    let e = f32::EPSILON;
    assert_eq!(
        instance.v(
            "madd",
            &[
                f32x4([1.0 + e, 2.0, 3.0, 0.5]),
                f32x4([1.0 - e, 3.0, 0.5, 0.5]),
                f32x4([-1.0, 1.0, 1.0, -0.25])
            ]
        ),
        kestrel_vm::simd::from_lanes_f32([0.0, 7.0, 2.5, 0.0])
    );

    // Both operands signed: 0x80 in the second is -128.
    let a = kestrel_vm::simd::from_lanes_i8([
        -128, -128, -128, -128, 1, 2, 3, 4, 0, 0, 0, 0, 1, 1, 1, 1,
    ]);
    let b = kestrel_vm::simd::from_lanes_i8([
        -128, -128, -128, -128, 5, 6, 7, 8, 0, 0, 0, 0, -1, 127, 1, 1,
    ]);
    assert_eq!(
        instance.v(
            "dot_add",
            &[V::V(a), V::V(b), V::V(i32x4([i32::MAX, 1, 2, 3]))]
        ),
        // 4 * 16384 + MAX wraps; 5 + 12 + 21 + 32 + 1 = 71; 2; -1 + 127 + 1 + 1 + 3 = 131.
        i32x4([i32::MAX.wrapping_add(65536), 71, 2, 131])
    );

    let a = kestrel_vm::simd::from_lanes_u8(std::array::from_fn(|i| i as u8));
    let b = kestrel_vm::simd::from_lanes_u8(std::array::from_fn(|i| 0x10 + i as u8));
    assert_eq!(
        kestrel_vm::simd::lanes_u8(instance.v("shuffle", &[V::V(a), V::V(b)])),
        [
            0x1f, 0, 0x10, 15, 1, 0x11, 2, 0x12, 0x1e, 0x1d, 3, 3, 3, 3, 0x14, 5
        ]
    );

    let results = instance
        .call(
            "lane",
            &[V::V(5 | 6 << 64), V::S(u64::MAX)],
            &[V::V(0), V::S(0), V::V(0)],
        )
        .unwrap();
    assert_eq!(
        results,
        [V::V(5 | (u64::MAX as u128) << 64), V::S(5), V::V(u128::MAX)]
    );
}

#[test]
fn vector_accesses_are_bounds_checked_at_the_end_of_memory() {
    let mut instance = Instance::new(
        r#"(module
          (memory 1)
          (func (export "load") (param i32) (result v128) (v128.load (local.get 0)))
          (func (export "load_far") (param i32) (result v128) (v128.load offset=0xffffffff (local.get 0)))
          (func (export "store") (param i32 v128) (v128.store (local.get 0) (local.get 1)))
          (func (export "load64_lane") (param i32 v128) (result v128)
            (v128.load64_lane 1 (local.get 0) (local.get 1)))
          (func (export "store8_lane") (param i32 v128)
            (v128.store8_lane 15 (local.get 0) (local.get 1)))
          (func (export "load32_zero") (param i32) (result v128) (v128.load32_zero (local.get 0)))
          (func (export "load16_splat") (param i32) (result v128) (v128.load16_splat (local.get 0))))"#,
    );
    let value = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128;
    // The last 16 bytes of the page.
    instance
        .call("store", &[V::S(65520), V::V(value)], &[])
        .unwrap();
    assert_eq!(instance.v("load", &[V::S(65520)]), value);
    for address in [65521, 65535, 65536, u32::MAX as u64] {
        assert_eq!(
            instance.trap("load", &[V::S(address)], &[V::V(0)]),
            TrapCode::MemoryOutOfBounds
        );
        assert_eq!(
            instance.trap("store", &[V::S(address), V::V(0)], &[]),
            TrapCode::MemoryOutOfBounds
        );
    }
    assert_eq!(
        instance.trap("load_far", &[V::S(1)], &[V::V(0)]),
        TrapCode::MemoryOutOfBounds
    );
    // The failed stores wrote nothing.
    assert_eq!(instance.v("load", &[V::S(65520)]), value);

    // An 8-byte lane load at 65528 reads bytes 8..16 of the stored vector.
    assert_eq!(
        instance.v("load64_lane", &[V::S(65528), V::V(7)]),
        7 | (0x0f0e_0d0c_0b0a_0908u128 << 64)
    );
    assert_eq!(
        instance.trap("load64_lane", &[V::S(65529), V::V(0)], &[V::V(0)]),
        TrapCode::MemoryOutOfBounds
    );
    // A one-byte lane store at the last byte, then a 4-byte zero-extending load of it.
    instance
        .call("store8_lane", &[V::S(65535), V::V(0xab << 120)], &[])
        .unwrap();
    assert_eq!(
        instance.trap("store8_lane", &[V::S(65536), V::V(0)], &[]),
        TrapCode::MemoryOutOfBounds
    );
    assert_eq!(instance.v("load32_zero", &[V::S(65532)]), 0xab0e_0d0c);
    assert_eq!(
        instance.trap("load32_zero", &[V::S(65533)], &[V::V(0)]),
        TrapCode::MemoryOutOfBounds
    );
    assert_eq!(
        instance.v("load16_splat", &[V::S(65534)]),
        kestrel_vm::simd::from_lanes_u16([0xab0e; 8])
    );
}
