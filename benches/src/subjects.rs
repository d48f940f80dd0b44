//! The engines a benchmark compares, behind one shape: Kestrel always, Wasmtime and wasmi
//! with the `peers` feature.
//!
//! Every engine links the same way: each function import is defined as a host function of
//! the import's type that does nothing (the `instantiate` and `startup` groups link, they
//! never call imports), so WASI imports cost each engine the same name resolution and no
//! engine pays for building a WASI context.

use std::sync::Arc;

/// Something done once per benchmark iteration; `Send + Sync` so two threads can share it.
pub type Action = Arc<dyn Fn() + Send + Sync>;

/// A named engine set-up: `kestrel`, `kestrel-pooling`, `wasmtime`, ...
pub struct Subject {
    pub name: &'static str,
    pub action: Action,
}

/// Ways to instantiate the (already compiled) module `bytes` (binary or text): each action
/// creates a store, instantiates the module in it through a pre-resolved linker, and drops
/// the store.
pub fn instantiators(bytes: &[u8]) -> Vec<Subject> {
    let binary = to_binary(bytes);
    #[allow(unused_mut)]
    let mut subjects = vec![
        Subject {
            name: "kestrel",
            action: kestrel::instantiator(&binary, false),
        },
        Subject {
            name: "kestrel-pooling",
            action: kestrel::instantiator(&binary, true),
        },
    ];
    #[cfg(feature = "peers")]
    {
        subjects.push(Subject {
            name: "wasmtime",
            action: wasmtime::instantiator(&binary, false),
        });
        subjects.push(Subject {
            name: "wasmtime-pooling",
            action: wasmtime::instantiator(&binary, true),
        });
        subjects.push(Subject {
            name: "wasmi",
            action: wasmi::instantiator(&binary),
        });
    }
    subjects
}

/// Ways to go from `bytes` to a ready instance: compile (validate, and whatever else the
/// engine does before running), link and instantiate, each iteration.
pub fn starters(bytes: &[u8]) -> Vec<Subject> {
    let binary = to_binary(bytes);
    #[allow(unused_mut)]
    let mut subjects = vec![Subject {
        name: "kestrel",
        action: kestrel::starter(binary.clone()),
    }];
    #[cfg(feature = "peers")]
    {
        subjects.push(Subject {
            name: "wasmtime",
            action: wasmtime::starter(binary.clone()),
        });
        subjects.push(Subject {
            name: "wasmi-lazy-translation",
            action: wasmi::starter(binary.clone()),
        });
    }
    subjects
}

/// The binary of a module given as binary or text.
pub fn to_binary(bytes: &[u8]) -> Vec<u8> {
    if bytes.starts_with(b"\0asm") {
        bytes.to_vec()
    } else {
        wat::parse_bytes(bytes).expect("valid text").into_owned()
    }
}

pub mod kestrel {
    //! Kestrel's side.
    use super::Action;
    use ::kestrel::*;
    use std::sync::Arc;

    /// An engine, with the pooling allocator or not. The pool has room for the
    /// `instantiate` group's two threads (and more).
    pub fn engine(pooling: bool) -> Engine {
        let mut config = Config::new();
        if pooling {
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(PoolingConfig {
                total_memories: 64,
                max_memory_size: 1 << 30,
            }));
        }
        Engine::new(&config).expect("valid configuration")
    }

    /// A linker defining every function import of `module` as a host function doing
    /// nothing.
    pub fn stub_linker<T: 'static>(engine: &Engine, module: &Module) -> Linker<T> {
        let mut linker = Linker::new(engine);
        linker.allow_shadowing(true);
        for import in module.imports() {
            if let ExternType::Func(ty) = import.ty() {
                linker
                    .func_new(import.module(), import.name(), ty, |_, _, _| Ok(()))
                    .expect("representable import");
            }
        }
        linker
    }

    pub fn instantiator(binary: &[u8], pooling: bool) -> Action {
        let engine = engine(pooling);
        let module = Module::new(&engine, binary).expect("valid module");
        let pre = stub_linker::<()>(&engine, &module)
            .instantiate_pre(&module)
            .expect("imports resolve");
        Arc::new(move || {
            let mut store = Store::new(&engine, ());
            pre.instantiate(&mut store).expect("instantiates");
        })
    }

    pub fn starter(binary: Vec<u8>) -> Action {
        let engine = engine(false);
        let linker = stub_linker::<()>(
            &engine,
            &Module::new(&engine, &binary).expect("valid module"),
        );
        Arc::new(move || {
            let module = Module::new(&engine, &binary).expect("valid module");
            let mut store = Store::new(&engine, ());
            linker
                .instantiate(&mut store, &module)
                .expect("instantiates");
        })
    }
}

#[cfg(feature = "peers")]
pub mod wasmtime {
    //! Wasmtime's side (Cranelift; on-demand or pooling allocation, copy-on-write memory
    //! initialisation as by default).
    use super::Action;
    use ::wasmtime::*;
    use std::sync::Arc;

    pub fn engine(pooling: bool) -> Engine {
        let mut config = Config::new();
        if pooling {
            let mut pool = PoolingAllocationConfig::default();
            pool.total_memories(64)
                .total_core_instances(64)
                .total_tables(64)
                .max_memory_size(1 << 30);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        Engine::new(&config).expect("valid configuration")
    }

    pub fn stub_linker<T: 'static>(engine: &Engine, module: &Module) -> Linker<T> {
        let mut linker = Linker::new(engine);
        linker.allow_shadowing(true);
        for import in module.imports() {
            if let ExternType::Func(ty) = import.ty() {
                linker
                    .func_new(import.module(), import.name(), ty, |_, _, _| Ok(()))
                    .expect("definable import");
            }
        }
        linker
    }

    pub fn instantiator(binary: &[u8], pooling: bool) -> Action {
        let engine = engine(pooling);
        let module = Module::new(&engine, binary).expect("valid module");
        let pre = stub_linker::<()>(&engine, &module)
            .instantiate_pre(&module)
            .expect("imports resolve");
        Arc::new(move || {
            let mut store = Store::new(&engine, ());
            pre.instantiate(&mut store).expect("instantiates");
        })
    }

    pub fn starter(binary: Vec<u8>) -> Action {
        let engine = engine(false);
        let linker = stub_linker::<()>(
            &engine,
            &Module::new(&engine, &binary).expect("valid module"),
        );
        Arc::new(move || {
            let module = Module::new(&engine, &binary).expect("valid module");
            let mut store = Store::new(&engine, ());
            linker
                .instantiate(&mut store, &module)
                .expect("instantiates");
        })
    }
}

#[cfg(feature = "peers")]
pub mod wasmi {
    //! wasmi's side (its default: eager validation, lazy translation).
    use super::Action;
    use ::wasmi::*;
    use std::sync::Arc;

    pub fn stub_linker<T: 'static>(engine: &Engine, module: &Module) -> Linker<T> {
        let mut linker = Linker::new(engine);
        linker.allow_shadowing(true);
        for import in module.imports() {
            if let ExternType::Func(ty) = import.ty() {
                linker
                    .func_new(import.module(), import.name(), ty.clone(), |_, _, _| Ok(()))
                    .expect("definable import");
            }
        }
        linker
    }

    pub fn instantiator(binary: &[u8]) -> Action {
        let engine = Engine::default();
        let module = Module::new(&engine, binary).expect("valid module");
        let linker = stub_linker::<()>(&engine, &module);
        Arc::new(move || {
            let mut store = Store::new(&engine, ());
            linker
                .instantiate_and_start(&mut store, &module)
                .expect("instantiates");
        })
    }

    pub fn starter(binary: Vec<u8>) -> Action {
        let engine = Engine::default();
        let linker = stub_linker::<()>(
            &engine,
            &Module::new(&engine, &binary).expect("valid module"),
        );
        Arc::new(move || {
            let module = Module::new(&engine, &binary).expect("valid module");
            let mut store = Store::new(&engine, ());
            linker
                .instantiate_and_start(&mut store, &module)
                .expect("instantiates");
        })
    }
}
