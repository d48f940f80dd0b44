//! The store's function index space, reserved in runs instead of function by function.
//!
//! Every function a store knows has a [`FuncId`], the index that funcref values encode
//! (plus one) and the embedding API's handles hold. A host function takes one id. An
//! instance's defined functions take one contiguous *run* of ids, reserved in O(1) when
//! the instance is made: no per-function entity is created, so instantiating a module of
//! thousands of functions costs the same as instantiating one of a single function. What
//! a function is ([`FuncEntity`]) is derived on demand from its run: its instance, its
//! index in that instance's module (the module's imported functions, then the offset in
//! the run) and its signature (from the module).
//!
//! [`FuncSpace`] owns the runs (and the host functions, by `Arc`, so a host function stays
//! at one address for as long as the store lives, which the tiers' host-call paths rely on:
//! `StoreOpaque::call_host`, the `VMFuncRef` of a host function). Invariants: runs are
//! never empty, are kept in increasing order of `start`, and tile the ids: each run starts
//! where the previous one ends, and `len` is where the last one ends. Runs are never
//! removed or changed except that the last run, when it holds host functions, grows by
//! one per new host function; so an id, once handed out, denotes the same function until
//! the store is dropped. Ids stay below `u32::MAX` (a run that would pass it is refused),
//! and instances' runs below [`WASM_IDS_END`]: reserving ids costs nothing, so without
//! that bound instances of big modules could use up the ids and leave none for host
//! functions, whose creation cannot fail; with it, running out of host-function ids would
//! take 2^31 host functions, each with its own allocation.

use crate::store::{FuncEntity, FuncId, HostFunc, InstanceId, RuntimeModule};
use crate::types::TypeId;
use std::sync::Arc;

/// Instances' runs of ids end at or below this (see the module docs).
pub const WASM_IDS_END: u32 = 1 << 31;

/// The function ids of a store (see the module docs).
#[derive(Debug, Default)]
pub struct FuncSpace {
    runs: Vec<Run>,
    len: u32,
}

#[derive(Debug)]
struct Run {
    start: u32,
    kind: RunKind,
}

#[derive(Debug)]
enum RunKind {
    /// Host functions, one id each.
    Host(Vec<Arc<HostFunc>>),
    /// Functions `first_index..first_index + count` of `instance`, whose signature ids
    /// are `types[first_defined..]` (`types`: the module's defined functions').
    Wasm {
        instance: InstanceId,
        types: Arc<[TypeId]>,
        first_defined: u32,
        first_index: u32,
        count: u32,
    },
}

impl Run {
    fn len(&self) -> u32 {
        match &self.kind {
            RunKind::Host(hosts) => hosts.len() as u32,
            RunKind::Wasm { count, .. } => *count,
        }
    }
}

impl FuncSpace {
    /// How many ids have been handed out.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a host function.
    pub fn push_host(&mut self, host: Arc<HostFunc>) -> Option<FuncId> {
        let id = FuncId(self.len);
        let end = self.len.checked_add(1).filter(|end| *end < u32::MAX)?;
        match self.runs.last_mut() {
            Some(Run {
                kind: RunKind::Host(hosts),
                ..
            }) => hosts.push(host),
            _ => self.runs.push(Run {
                start: self.len,
                kind: RunKind::Host(vec![host]),
            }),
        }
        self.len = end;
        Some(id)
    }

    /// Reserves the ids of functions `first_index..first_index + count` of `instance`
    /// (of module `module`), which must be defined functions of the module; returns the
    /// first (the others follow it), or `None` when the store has no ids left or the
    /// functions are not all defined ones.
    pub fn push_wasm(
        &mut self,
        instance: InstanceId,
        module: &Arc<RuntimeModule>,
        first_index: u32,
        count: u32,
    ) -> Option<FuncId> {
        let first = FuncId(self.len);
        let end = self
            .len
            .checked_add(count)
            .filter(|end| *end <= WASM_IDS_END)?;
        let first_defined = first_index.checked_sub(module.info.num_imported_functions)?;
        let types = &module.plan().defined_func_types;
        if first_defined as usize + count as usize > types.len() {
            return None;
        }
        if count > 0 {
            self.runs.push(Run {
                start: self.len,
                kind: RunKind::Wasm {
                    instance,
                    types: types.clone(),
                    first_defined,
                    first_index,
                    count,
                },
            });
        }
        self.len = end;
        Some(first)
    }

    /// The run holding `id` and `id`'s offset in it.
    #[inline]
    fn find(&self, id: FuncId) -> Option<(&Run, u32)> {
        // The last run first: in most stores, the one instance's functions; then the first
        // (which starts at 0): in most stores, the host functions a linker defined before
        // the instances that import them.
        let last = self.runs.last()?;
        let run = if id.0 >= last.start {
            last
        } else if id.0 < self.runs[0].len() {
            &self.runs[0]
        } else {
            let after = self.runs.partition_point(|run| run.start <= id.0);
            self.runs.get(after.checked_sub(1)?)?
        };
        let offset = id.0 - run.start;
        (offset < run.len()).then_some((run, offset))
    }

    /// What function `id` is, or `None` for an id not handed out.
    #[inline]
    pub fn get(&self, id: FuncId) -> Option<FuncEntity> {
        let (run, offset) = self.find(id)?;
        Some(match &run.kind {
            RunKind::Host(hosts) => FuncEntity::Host(hosts[offset as usize].clone()),
            RunKind::Wasm {
                instance,
                types,
                first_defined,
                first_index,
                ..
            } => FuncEntity::Wasm {
                instance: *instance,
                index: first_index + offset,
                type_id: types[(first_defined + offset) as usize],
            },
        })
    }

    /// Function `id` if it is a host function, borrowed (no reference count is touched).
    #[inline]
    pub fn host(&self, id: FuncId) -> Option<&HostFunc> {
        match self.find(id)? {
            (
                Run {
                    kind: RunKind::Host(hosts),
                    ..
                },
                offset,
            ) => Some(&hosts[offset as usize]),
            _ => None,
        }
    }

    /// Function `id`'s instance and index in its module if it is a Wasm function.
    #[inline]
    pub fn wasm(&self, id: FuncId) -> Option<(InstanceId, u32)> {
        match self.find(id)? {
            (
                Run {
                    kind:
                        RunKind::Wasm {
                            instance,
                            first_index,
                            ..
                        },
                    ..
                },
                offset,
            ) => Some((*instance, first_index + offset)),
            _ => None,
        }
    }

    /// The signature id of function `id` (without cloning anything).
    #[inline]
    pub fn type_id(&self, id: FuncId) -> Option<TypeId> {
        let (run, offset) = self.find(id)?;
        Some(match &run.kind {
            RunKind::Host(hosts) => hosts[offset as usize].type_id,
            RunKind::Wasm {
                types,
                first_defined,
                ..
            } => types[(first_defined + offset) as usize],
        })
    }

    /// Every function, in id order, as `(type id, instance)` (`None` for host functions):
    /// what the store's `VMFuncRef`s are built from.
    pub fn for_each(&self, mut f: impl FnMut(TypeId, Option<InstanceId>)) {
        for run in &self.runs {
            match &run.kind {
                RunKind::Host(hosts) => hosts.iter().for_each(|host| f(host.type_id, None)),
                RunKind::Wasm {
                    instance,
                    types,
                    first_defined,
                    count,
                    ..
                } => {
                    let start = *first_defined as usize;
                    for type_id in &types[start..start + *count as usize] {
                        f(*type_id, Some(*instance));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::TypeRegistry;
    use kestrel_parser::Features;

    /// A module with one imported and three defined functions, and its signatures.
    fn module(registry: &TypeRegistry) -> Arc<RuntimeModule> {
        let bytes = wat::parse_str(
            r#"(module
              (import "host" "f" (func (param i32)))
              (func) (func (result i64) i64.const 0) (func (param i32)))"#,
        )
        .unwrap();
        let info = kestrel_parser::parse(bytes, &Features::default()).unwrap();
        Arc::new(RuntimeModule::new(Arc::new(info), registry))
    }

    fn host(module: &RuntimeModule) -> Arc<HostFunc> {
        Arc::new(HostFunc::new(
            Arc::new(module.info.types[module.info.functions[0] as usize].clone()),
            module.function_type_id(0),
            Box::new(|_, _| Ok(())),
        ))
    }

    fn wasm(entity: Option<FuncEntity>) -> Option<(InstanceId, u32, TypeId)> {
        match entity? {
            FuncEntity::Wasm {
                instance,
                index,
                type_id,
            } => Some((instance, index, type_id)),
            FuncEntity::Host(_) => None,
        }
    }

    #[test]
    fn runs_tile_the_ids_and_describe_each_function() {
        let registry = TypeRegistry::default();
        let module = module(&registry);
        let mut space = FuncSpace::default();
        assert_eq!(space.get(FuncId(0)).map(|_| ()), None);
        assert_eq!(space.push_host(host(&module)), Some(FuncId(0)));
        assert_eq!(space.push_host(host(&module)), Some(FuncId(1)));
        let first = space.push_wasm(InstanceId(0), &module, 1, 3).unwrap();
        assert_eq!(first, FuncId(2));
        // An instance without defined functions takes no ids.
        assert_eq!(
            space.push_wasm(InstanceId(1), &module, 1, 0),
            Some(FuncId(5))
        );
        let second = space.push_wasm(InstanceId(2), &module, 1, 3).unwrap();
        assert_eq!(second, FuncId(5));
        assert_eq!(space.push_host(host(&module)), Some(FuncId(8)));
        assert_eq!(space.len(), 9);

        assert!(matches!(space.get(FuncId(1)), Some(FuncEntity::Host(_))));
        assert!(matches!(space.get(FuncId(8)), Some(FuncEntity::Host(_))));
        for offset in 0..3 {
            let index = 1 + offset;
            let type_id = module.function_type_id(index);
            assert_eq!(
                wasm(space.get(FuncId(first.0 + offset))),
                Some((InstanceId(0), index, type_id))
            );
            assert_eq!(
                wasm(space.get(FuncId(second.0 + offset))),
                Some((InstanceId(2), index, type_id))
            );
            assert_eq!(space.type_id(FuncId(second.0 + offset)), Some(type_id));
        }
        assert_eq!(space.type_id(FuncId(0)), Some(module.function_type_id(0)));
        assert!(space.get(FuncId(9)).is_none());
        assert!(space.type_id(FuncId(u32::MAX)).is_none());

        let mut seen = Vec::new();
        space.for_each(|type_id, instance| seen.push((type_id, instance)));
        assert_eq!(seen.len(), 9);
        assert_eq!(seen[3], (module.function_type_id(2), Some(InstanceId(0))));
        assert_eq!(seen[8], (module.function_type_id(0), None));
    }

    #[test]
    fn host_functions_keep_their_address_as_the_space_grows() {
        let registry = TypeRegistry::default();
        let module = module(&registry);
        let mut space = FuncSpace::default();
        let first = host(&module);
        let address = Arc::as_ptr(&first);
        assert_eq!(space.push_host(first), Some(FuncId(0)));
        let wasm = space.push_wasm(InstanceId(0), &module, 1, 3).unwrap();
        for _ in 0..100 {
            space.push_host(host(&module));
        }
        assert!(std::ptr::eq(space.host(FuncId(0)).unwrap(), address));
        assert!(space.host(wasm).is_none());
        assert_eq!(space.wasm(wasm), Some((InstanceId(0), 1)));
        assert_eq!(space.wasm(FuncId(0)), None);
        assert!(space.host(FuncId(4)).is_some());
        assert!(space.host(FuncId(200)).is_none());
    }

    #[test]
    fn instances_leave_the_upper_ids_to_host_functions() {
        let registry = TypeRegistry::default();
        let module = module(&registry);
        // As if instances had taken all but two of their ids (reserving them for real
        // would take hundreds of millions of runs).
        let mut space = FuncSpace {
            runs: Vec::new(),
            len: WASM_IDS_END - 2,
        };
        assert_eq!(space.push_wasm(InstanceId(0), &module, 1, 3), None);
        // A refused reservation changes nothing.
        assert_eq!(space.len(), WASM_IDS_END as usize - 2);
        assert_eq!(
            space.push_wasm(InstanceId(1), &module, 2, 2),
            Some(FuncId(WASM_IDS_END - 2))
        );
        assert_eq!(space.push_wasm(InstanceId(2), &module, 1, 1), None);
        // Host functions still get ids.
        assert_eq!(space.push_host(host(&module)), Some(FuncId(WASM_IDS_END)));
        assert!(matches!(
            space.get(FuncId(WASM_IDS_END)),
            Some(FuncEntity::Host(_))
        ));
        assert_eq!(
            wasm(space.get(FuncId(WASM_IDS_END - 1))),
            Some((InstanceId(1), 3, module.function_type_id(3)))
        );
        // Up to `u32::MAX - 1` ids in all.
        space.len = u32::MAX - 2;
        assert_eq!(space.push_host(host(&module)), Some(FuncId(u32::MAX - 2)));
        assert_eq!(space.push_host(host(&module)), None);
    }

    #[test]
    fn runs_hold_defined_functions_only() {
        let registry = TypeRegistry::default();
        let module = module(&registry);
        let mut space = FuncSpace::default();
        // Function 0 is the import; there are three defined functions.
        assert_eq!(space.push_wasm(InstanceId(0), &module, 0, 1), None);
        assert_eq!(space.push_wasm(InstanceId(0), &module, 2, 3), None);
        assert_eq!(space.len(), 0);
        assert_eq!(
            space.push_wasm(InstanceId(0), &module, 3, 1),
            Some(FuncId(0))
        );
    }
}
