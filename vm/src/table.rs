//! Tables of references.
//!
//! Elements are stored in the raw reference encoding of [`crate::value`] (0 is null), so a
//! funcref table is a plain array of `u64` that both tiers can index.
//!
//! A table made from its module's template ([`Table::from_template`]) is initialised
//! lazily: until something writes it (or compiled code may read it), it keeps the shared
//! template and its instance's first function id, and reads compute each element from them
//! (`template[i] + first_func`, or null where the template is 0). The first write, and
//! [`Table::materialize`], build its own elements from the template in one pass. So an
//! instance whose table is never touched costs one `Arc` clone per table, and instances
//! never share elements: a write always goes to the table's own vector.
//!
//! Invariants: while `pending` is set, `elements` is empty and the table's contents are
//! exactly what the template gives (its size is the template's length). `definition`
//! (boxed, so compiled code can keep its address) holds the address and length of
//! `elements` whenever `pending` is unset; every method that can reallocate `elements`
//! refreshes it before returning. Compiled code reads `definition` only after the store
//! materialised every table (`StoreOpaque::prepare_for_compiled_code`).

use crate::offsets::VMTableDefinition;
use crate::trap::TrapCode;
use kestrel_parser::TableType;
use std::sync::Arc;

/// One table.
#[derive(Debug)]
pub struct Table {
    ty: TableType,
    elements: Vec<u64>,
    maximum: u64,
    definition: Box<VMTableDefinition>,
    /// The contents not yet built (see the module docs).
    pending: Option<Pending>,
}

/// A table's contents as its module's template gives them.
#[derive(Debug, Clone)]
struct Pending {
    /// 0 for null, else 1 + a defined-function index.
    template: Arc<[u64]>,
    /// The store id of the instance's first defined function.
    first_func: u64,
}

impl Pending {
    #[inline]
    fn element(&self, template: u64) -> u64 {
        // One add and a mask, no branch: `build` vectorises.
        template + (self.first_func & 0u64.wrapping_sub(u64::from(template != 0)))
    }

    fn build(&self) -> Vec<u64> {
        self.template
            .iter()
            .map(|template| self.element(*template))
            .collect()
    }
}

/// Tables never grow beyond this many elements, whatever their declared maximum: it bounds
/// the host memory one `table.grow` can demand.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

impl Table {
    /// Creates a table of `ty.limits.minimum` elements, all `initial`.
    pub fn new(ty: TableType, initial: u64) -> Result<Table, String> {
        let mut table = Table::new_empty(ty)?;
        table.elements = vec![initial; ty.limits.minimum as usize];
        table.sync_definition();
        Ok(table)
    }

    /// Creates a table of type `ty` holding a module's template (see
    /// [`crate::plan::InstancePlan::table_templates`]) for an instance whose first defined
    /// function has store id `first_func`: `template[i] + first_func`, or null where the
    /// template is 0. Built lazily (see the module docs). The template must have
    /// `ty.limits.minimum` elements (else the table is refused).
    pub fn from_template(
        ty: TableType,
        template: &Arc<[u64]>,
        first_func: u32,
    ) -> Result<Table, String> {
        if template.len() as u64 != ty.limits.minimum {
            return Err("table template of the wrong size".into());
        }
        let mut table = Table::new_empty(ty)?;
        table.pending = Some(Pending {
            template: template.clone(),
            first_func: u64::from(first_func),
        });
        Ok(table)
    }

    /// A table of type `ty` with no elements yet.
    fn new_empty(ty: TableType) -> Result<Table, String> {
        let maximum = ty
            .limits
            .maximum
            .unwrap_or(u64::MAX)
            .min(MAX_TABLE_ELEMENTS);
        if ty.limits.minimum > maximum {
            return Err(format!(
                "table minimum of {} elements is too large",
                ty.limits.minimum
            ));
        }
        Ok(Table {
            ty,
            elements: Vec::new(),
            maximum,
            definition: Box::new(VMTableDefinition {
                base: std::ptr::null_mut(),
                current_elements: 0,
            }),
            pending: None,
        })
    }

    /// Builds the table's own elements if they are still the template's (see the module
    /// docs); afterwards `definition` is valid for compiled code.
    pub fn materialize(&mut self) {
        if let Some(pending) = self.pending.take() {
            self.elements = pending.build();
            self.sync_definition();
        }
    }

    /// Whether the elements are still the template's (not built yet).
    pub fn is_lazy(&self) -> bool {
        self.pending.is_some()
    }

    /// The elements, built first if needed.
    fn elements_mut(&mut self) -> &mut Vec<u64> {
        self.materialize();
        &mut self.elements
    }

    fn sync_definition(&mut self) {
        self.definition.base = self.elements.as_mut_ptr();
        self.definition.current_elements = self.elements.len() as u64;
    }

    /// A stable pointer to the table's base and length, for compiled code; valid as long as
    /// this table lives, and up to date once the table is materialised
    /// ([`Table::materialize`]).
    pub fn definition_ptr(&mut self) -> *mut VMTableDefinition {
        &mut *self.definition
    }

    pub fn ty(&self) -> TableType {
        self.ty
    }

    pub fn size(&self) -> u64 {
        match &self.pending {
            Some(pending) => pending.template.len() as u64,
            None => self.elements.len() as u64,
        }
    }

    pub fn maximum(&self) -> u64 {
        self.maximum
    }

    /// The elements in `range` (which must lie within the table's size), copied.
    pub fn read(&self, range: std::ops::Range<usize>) -> Vec<u64> {
        match &self.pending {
            Some(pending) => pending.template[range]
                .iter()
                .map(|template| pending.element(*template))
                .collect(),
            None => self.elements[range].to_vec(),
        }
    }

    /// Every element, copied.
    pub fn to_vec(&self) -> Vec<u64> {
        self.read(0..self.size() as usize)
    }

    #[inline]
    pub fn get(&self, index: u64) -> Result<u64, TrapCode> {
        if let Some(pending) = &self.pending {
            return usize::try_from(index)
                .ok()
                .and_then(|index| pending.template.get(index))
                .map(|template| pending.element(*template))
                .ok_or(TrapCode::TableOutOfBounds);
        }
        self.elements
            .get(index as usize)
            .copied()
            .filter(|_| index <= usize::MAX as u64)
            .ok_or(TrapCode::TableOutOfBounds)
    }

    #[inline]
    pub fn set(&mut self, index: u64, value: u64) -> Result<(), TrapCode> {
        if index >= self.size() {
            return Err(TrapCode::TableOutOfBounds);
        }
        let slot = self
            .elements_mut()
            .get_mut(index as usize)
            .ok_or(TrapCode::TableOutOfBounds)?;
        *slot = value;
        Ok(())
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or `None` on failure.
    pub fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.size();
        let new = old.checked_add(delta).filter(|new| *new <= self.maximum)?;
        let elements = self.elements_mut();
        elements.try_reserve(delta as usize).ok()?;
        elements.resize(new as usize, init);
        self.sync_definition();
        Some(old)
    }

    pub fn fill(&mut self, start: u64, value: u64, len: u64) -> Result<(), TrapCode> {
        let range = bounds(start, len, self.size())?;
        self.elements_mut()[range].fill(value);
        Ok(())
    }

    /// `table.copy` within one table (overlap allowed).
    pub fn copy_within(&mut self, destination: u64, source: u64, len: u64) -> Result<(), TrapCode> {
        let source = bounds(source, len, self.size())?;
        let destination = bounds(destination, len, self.size())?;
        self.elements_mut().copy_within(source, destination.start);
        Ok(())
    }

    /// Lets `fill` write the `len` elements from `start` in place, trapping (and writing
    /// nothing) when they do not fit.
    pub fn write_with(
        &mut self,
        start: u64,
        len: u64,
        fill: impl FnOnce(&mut [u64]),
    ) -> Result<(), TrapCode> {
        let range = bounds(start, len, self.size())?;
        fill(&mut self.elements_mut()[range]);
        Ok(())
    }

    /// Copies `values` to `start`, trapping (and copying nothing) when they do not fit.
    pub fn write(&mut self, start: u64, values: &[u64]) -> Result<(), TrapCode> {
        let range = bounds(start, values.len() as u64, self.size())?;
        self.elements_mut()[range].copy_from_slice(values);
        Ok(())
    }
}

/// `start..start+len` within `size`, or the table trap.
#[inline]
pub fn bounds(start: u64, len: u64, size: u64) -> Result<std::ops::Range<usize>, TrapCode> {
    match start.checked_add(len) {
        Some(end) if end <= size => Ok(start as usize..end as usize),
        _ => Err(TrapCode::TableOutOfBounds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kestrel_parser::{Limits, RefType};

    #[test]
    fn grow_fill_copy_respect_bounds() {
        let ty = TableType {
            element_type: RefType::FUNCREF,
            limits: Limits {
                minimum: 2,
                maximum: Some(4),
            },
            table64: false,
        };
        let mut table = Table::new(ty, 0).unwrap();
        assert_eq!(table.grow(2, 5), Some(2));
        assert_eq!(table.grow(1, 5), None);
        assert_eq!(table.to_vec(), &[0, 0, 5, 5]);
        table.fill(0, 9, 2).unwrap();
        assert_eq!(table.fill(3, 1, 2), Err(TrapCode::TableOutOfBounds));
        table.copy_within(1, 0, 3).unwrap();
        assert_eq!(table.to_vec(), &[9, 9, 9, 5]);
        assert_eq!(table.get(4), Err(TrapCode::TableOutOfBounds));
        assert_eq!(table.write(3, &[1, 2]), Err(TrapCode::TableOutOfBounds));
        assert_eq!(table.to_vec(), &[9, 9, 9, 5]);
        let definition = table.definition_ptr();
        // SAFETY: the definition lives as long as `table`.
        let definition = unsafe { &*definition };
        assert_eq!(definition.current_elements, 4);
        assert_eq!(definition.base.cast_const(), table.elements.as_ptr());
    }

    #[test]
    fn template_tables_read_lazily_and_build_their_own_elements_on_write() {
        let ty = TableType {
            element_type: RefType::FUNCREF,
            limits: Limits {
                minimum: 4,
                maximum: None,
            },
            table64: false,
        };
        // Slots 1 and 2 hold defined functions 0 and 2; 0 and 3 are null.
        let template: Arc<[u64]> = Arc::from(vec![0, 1, 3, 0]);
        let mut first = Table::from_template(ty, &template, 10).unwrap();
        let mut second = Table::from_template(ty, &template, 20).unwrap();
        assert!(first.is_lazy() && second.is_lazy());
        assert_eq!(first.size(), 4);
        // The encoding of function id `first + defined` is `first + defined + 1`.
        assert_eq!(first.get(1), Ok(11));
        assert_eq!(first.get(2), Ok(13));
        assert_eq!(first.get(0), Ok(0));
        assert_eq!(first.get(4), Err(TrapCode::TableOutOfBounds));
        assert_eq!(second.to_vec(), &[0, 21, 23, 0]);
        assert_eq!(first.read(1..3), &[11, 13]);
        assert!(first.is_lazy(), "reads build nothing");
        // A failed write builds nothing either.
        assert_eq!(first.set(4, 5), Err(TrapCode::TableOutOfBounds));
        assert!(first.is_lazy());
        // The first write builds the table's own elements, template first.
        first.set(3, 99).unwrap();
        assert!(!first.is_lazy());
        assert_eq!(first.to_vec(), &[0, 11, 13, 99]);
        assert_eq!(second.to_vec(), &[0, 21, 23, 0]);
        assert!(second.is_lazy());
        let definition = first.definition_ptr();
        // SAFETY: the definition lives as long as `first`.
        let definition = unsafe { &*definition };
        assert_eq!(definition.current_elements, 4);
        assert_eq!(definition.base.cast_const(), first.elements.as_ptr());
        // Growing a lazy table keeps the template's elements.
        assert_eq!(second.grow(2, 7), Some(4));
        assert_eq!(second.to_vec(), &[0, 21, 23, 0, 7, 7]);
        // A template of the wrong size is refused.
        assert!(Table::from_template(ty, &Arc::from(vec![0]), 0).is_err());
    }
}
