//! wasmi as a reference oracle for Kestrel's interpreter: the same wasm-smith modules and
//! calls (dummy imports, every export with default then edge-case arguments) must give the
//! same results (NaNs canonicalised), trap codes, exported globals and memories. The
//! interpreter and the JIT share the parser, instantiation and `numeric`, so only an
//! independent implementation catches a bug in those.
//!
//! Without SIMD: wasmi 2.0 (`simd` feature) returns wrong `v128` results on wasm-smith
//! modules where Kestrel's interpreter, its JIT and Wasmtime 48 agree (seen first at
//! iteration 13,779 of this seed with SIMD on: a `br_table` carrying a `v128` out of an
//! `if`). SIMD is compared between Kestrel's tiers instead (`differential`).

use arbitrary::Unstructured;
use kestrel::{Strategy, Trap};
use kestrel_fuzzing::{
    CanonVal, Harness, Outcome, Seeds, call_args, generate_module_with, smith_config,
};
use wasmi::{Extern, ExternType, Func, Global, Memory, Module, Ref, Store, Table, Val};

/// `outcome` with the one naming difference between the two engines folded away: an
/// out-of-bounds `call_indirect` is Kestrel's `UndefinedElement` (the spec interpreter's
/// "undefined element") and wasmi's `TableOutOfBounds`.
fn fold(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Trapped(Some(Trap::UndefinedElement)) => {
            Outcome::Trapped(Some(Trap::TableOutOfBounds))
        }
        other => other,
    }
}

/// Kestrel's trap code for wasmi's.
fn trap(code: wasmi::TrapCode) -> Option<Trap> {
    use wasmi::TrapCode as W;
    Some(match code {
        W::UnreachableCodeReached => Trap::Unreachable,
        W::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
        W::TableOutOfBounds => Trap::TableOutOfBounds,
        W::IndirectCallToNull => Trap::IndirectCallToNull,
        W::IntegerDivisionByZero => Trap::IntegerDivisionByZero,
        W::IntegerOverflow => Trap::IntegerOverflow,
        W::BadConversionToInteger => Trap::BadConversionToInteger,
        W::StackOverflow => Trap::StackOverflow,
        W::BadSignature => Trap::BadSignature,
        _ => return None,
    })
}

fn canon(v: &Val) -> CanonVal {
    let k = match v {
        Val::I32(x) => kestrel::Val::I32(*x),
        Val::I64(x) => kestrel::Val::I64(*x),
        Val::F32(x) => kestrel::Val::F32(x.to_bits()),
        Val::F64(x) => kestrel::Val::F64(x.to_bits()),
        Val::V128(x) => kestrel::Val::V128(x.as_u128()),
        Val::FuncRef(f) => return CanonVal::FuncRef { null: f.is_null() },
        Val::ExternRef(r) => return CanonVal::ExternRef { null: r.is_null() },
    };
    CanonVal::from(&k)
}

fn to_wasmi(v: &kestrel::Val, ty: &wasmi::ValType) -> Val {
    match *v {
        kestrel::Val::I32(x) => Val::I32(x),
        kestrel::Val::I64(x) => Val::I64(x),
        kestrel::Val::F32(x) => Val::F32(wasmi::F32::from_bits(x)),
        kestrel::Val::F64(x) => Val::F64(wasmi::F64::from_bits(x)),
        kestrel::Val::V128(x) => Val::V128(wasmi::V128::from(x)),
        _ => Val::default_for_ty(*ty),
    }
}

fn kestrel_ty(ty: &wasmi::ValType) -> kestrel::ValType {
    match ty {
        wasmi::ValType::I32 => kestrel::ValType::I32,
        wasmi::ValType::I64 => kestrel::ValType::I64,
        wasmi::ValType::F32 => kestrel::ValType::F32,
        wasmi::ValType::F64 => kestrel::ValType::F64,
        wasmi::ValType::V128 => kestrel::ValType::V128,
        wasmi::ValType::ExternRef => kestrel::ValType::EXTERNREF,
        _ => kestrel::ValType::FUNCREF,
    }
}

/// wasmi's outcome as Kestrel's. Stack exhaustion is a resource limit each engine sets for
/// itself (wasmi's default is shallower than wasm-smith's fuel allows), so it counts as a
/// non-trap failure, which skips the module.
fn outcome(result: Result<Vec<CanonVal>, wasmi::Error>) -> Outcome {
    match result {
        Ok(values) => Outcome::Returned(values),
        Err(e) if e.as_trap_code() == Some(wasmi::TrapCode::StackOverflow) => {
            Outcome::Failed(kestrel::ErrorKind::Resource)
        }
        Err(e) => match e.as_trap_code() {
            Some(code) => Outcome::Trapped(trap(code)),
            None => Outcome::Failed(kestrel::ErrorKind::Host),
        },
    }
}

/// Runs `bytes` on Kestrel's interpreter and wasmi in lockstep; `Err` describes the first
/// difference. Modules wasmi rejects, or fails to run for reasons other than a trap, are
/// skipped (`Ok(false)`).
fn compare(bytes: &[u8]) -> Result<bool, String> {
    let engine = wasmi::Engine::default();
    let Ok(module) = Module::new(&engine, bytes) else {
        return Ok(false);
    };
    let Ok((mut k, k_outcome)) = Harness::new(Strategy::Interpreter, bytes) else {
        return Err("wasmi compiles the module, Kestrel does not".into());
    };
    let mut store = Store::new(&engine, ());
    let mut imports = Vec::new();
    for import in module.imports() {
        let item: Extern = match import.ty() {
            ExternType::Func(ty) => Func::new(&mut store, ty.clone(), |_, _, results| {
                for r in results.iter_mut() {
                    *r = Val::default_for_ty(r.ty());
                }
                Ok(())
            })
            .into(),
            ExternType::Global(ty) => Global::new(
                &mut store,
                Val::default_for_ty(ty.content()),
                ty.mutability(),
            )
            .into(),
            ExternType::Memory(ty) => match Memory::new(&mut store, *ty) {
                Ok(m) => m.into(),
                Err(_) => return Ok(false),
            },
            ExternType::Table(ty) => match Table::new(&mut store, *ty, Ref::null(ty.element())) {
                Ok(t) => t.into(),
                Err(_) => return Ok(false),
            },
        };
        imports.push(item);
    }
    let instance = wasmi::Instance::new(&mut store, &module, &imports);
    let w_outcome = match &instance {
        Ok(_) => Outcome::Returned(Vec::new()),
        Err(e) => outcome(Err(match e.as_trap_code() {
            Some(code) => wasmi::Error::from(code),
            None => wasmi::Error::new("not a trap"),
        })),
    };
    if matches!(w_outcome, Outcome::Failed(_)) {
        return Ok(false);
    }
    if fold(k_outcome.clone()) != w_outcome {
        return Err(format!(
            "instantiate: kestrel {k_outcome:?}, wasmi {w_outcome:?}"
        ));
    }
    let Ok(instance) = instance else {
        return Ok(true);
    };
    let exports: Vec<(String, Extern)> = instance
        .exports(&store)
        .map(|e| (e.name().to_string(), e.into_extern()))
        .collect();
    let names = k.func_exports();
    for round in 0..2 {
        for name in &names {
            let k_outcome = k.call_with(name, round);
            let func = instance.get_func(&store, name).unwrap();
            let ty = func.ty(&store);
            let params_k = call_args(
                &ty.params().iter().map(kestrel_ty).collect::<Vec<_>>(),
                round,
            );
            let params: Vec<Val> = params_k
                .iter()
                .zip(ty.params())
                .map(|(v, t)| to_wasmi(v, t))
                .collect();
            let mut results: Vec<Val> = ty
                .results()
                .iter()
                .map(|t| Val::default_for_ty(*t))
                .collect();
            let w_outcome = outcome(
                func.call(&mut store, &params, &mut results)
                    .map(|()| results.iter().map(canon).collect()),
            );
            if matches!(w_outcome, Outcome::Failed(_)) {
                return Ok(false);
            }
            if fold(k_outcome.clone()) != w_outcome {
                return Err(format!(
                    "call {name:?} round {round}: kestrel {k_outcome:?}, wasmi {w_outcome:?}"
                ));
            }
            // Exported globals and memories after every call.
            let k_globals = k.globals();
            let k_memories = k.memories();
            for (ename, item) in &exports {
                match item {
                    Extern::Global(g) => {
                        let w = canon(&g.get(&store));
                        let kv = k_globals.iter().find(|(n, _)| n == ename).map(|(_, v)| *v);
                        if kv != Some(w) {
                            return Err(format!(
                                "global {ename:?} after call {name:?} round {round}: kestrel {kv:?}, wasmi {w:?}"
                            ));
                        }
                    }
                    Extern::Memory(m) => {
                        let w = m.data(&store);
                        let kv = k_memories
                            .iter()
                            .find(|(n, _)| n == ename)
                            .map(|(_, v)| *v)
                            .unwrap();
                        if kv != w {
                            let at = kv.iter().zip(w).position(|(a, b)| a != b);
                            return Err(format!(
                                "memory {ename:?} after call {name:?} round {round}: sizes {} and {}, first difference at {at:?}",
                                kv.len(),
                                w.len()
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(true)
}

#[test]
fn interp_matches_wasmi() {
    let iterations = std::env::var("KESTREL_FUZZ_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000u64);
    let mut seeds = Seeds::new(0x0077_6173_6d69);
    let (mut compared, mut skipped) = (0, 0);
    for i in 0..iterations {
        let len = 256 + (seeds.next_u64() % 8192) as usize;
        let data = seeds.bytes(len);
        let mut config = smith_config();
        config.simd_enabled = false;
        let Ok(bytes) = generate_module_with(config, &mut Unstructured::new(&data)) else {
            continue;
        };
        match compare(&bytes) {
            Ok(true) => compared += 1,
            Ok(false) => skipped += 1,
            Err(difference) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                panic!(
                    "iteration {i}: Kestrel's interpreter and wasmi differ: {difference}\nmodule: {hex}"
                );
            }
        }
    }
    eprintln!("wasmi oracle: {compared} modules compared, {skipped} skipped");
    assert!(compared > 0);
}
